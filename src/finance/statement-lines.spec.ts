import { describe, expect, it } from 'vitest';

import { monthBounds, type Movement, statementCsv, statementLines } from './statement-lines.js';

const at = (iso: string) => new Date(iso);
const move = (fields: Partial<Movement> & Pick<Movement, 'at' | 'kind' | 'credits'>): Movement => ({
  source: null,
  allocationId: null,
  purchaseId: null,
  chargeback: false,
  valueMinor: null,
  currency: null,
  ...fields,
});

describe('statement lines', () => {
  it('sums usage into one line per UTC day with its money, placed where the day’s first use was', () => {
    const lines = statementLines([
      move({ at: at('2026-11-03T08:00:00Z'), kind: 'debit', credits: -1, valueMinor: -333n, currency: 'usd' }),
      move({
        at: at('2026-11-03T09:00:00Z'),
        kind: 'grant',
        credits: 1000,
        source: 'purchase',
        purchaseId: 'p1',
        valueMinor: 100_000n,
        currency: 'usd',
      }),
      move({ at: at('2026-11-03T23:59:59Z'), kind: 'session', credits: -2, valueMinor: -667n, currency: 'usd' }),
      move({ at: at('2026-11-04T00:00:00Z'), kind: 'overdraft', credits: -5 }),
    ]);
    expect(lines).toEqual([
      {
        date: '2026-11-03',
        kind: 'usage',
        credits: -3,
        value: '-10.00',
        currency: 'usd',
        description: 'Usage on 2026-11-03 (UTC)',
      },
      {
        date: '2026-11-03',
        kind: 'purchase',
        credits: 1000,
        value: '1000.00',
        currency: 'usd',
        description: 'Purchase p1',
      },
      { date: '2026-11-04', kind: 'usage', credits: -5, description: 'Usage on 2026-11-04 (UTC)' },
    ]);
  });

  it('names each movement’s kind; no value for promotional credits or a day of two currencies', () => {
    const lines = statementLines([
      move({ at: at('2026-11-01T00:00:00Z'), kind: 'grant', credits: 50, source: 'signup' }),
      move({
        at: at('2026-11-01T01:00:00Z'),
        kind: 'refund',
        credits: -10,
        purchaseId: 'p1',
        chargeback: true,
        valueMinor: -100n,
        currency: 'eur',
      }),
      move({ at: at('2026-11-01T02:00:00Z'), kind: 'debit', credits: -1, valueMinor: -1n, currency: 'eur' }),
      move({ at: at('2026-11-01T03:00:00Z'), kind: 'debit', credits: -1, valueMinor: -1n, currency: 'usd' }),
      move({ at: at('2026-11-01T04:00:00Z'), kind: 'expire', credits: 0 }),
    ]);
    expect(lines.map((l) => [l.kind, l.credits, l.value ?? null])).toEqual([
      ['promotion', 50, null],
      ['chargeback', -10, '-1.00'],
      ['usage', -2, null],
    ]);
  });

  it('takes months as UTC bounds; writes CSV with opening and closing, signed numbers as numbers', () => {
    expect(monthBounds('2026-12')).toEqual({ start: at('2026-12-01T00:00:00Z'), end: at('2027-01-01T00:00:00Z') });
    expect(monthBounds('2026-13')).toBeNull();
    const csv = statementCsv({
      month: '2026-11',
      openingCredits: 5,
      closingCredits: 2,
      lines: [
        {
          date: '2026-11-02',
          kind: 'usage',
          credits: -3,
          value: '-0.03',
          currency: 'usd',
          description: '=HYPERLINK("x")',
        },
      ],
    });
    expect(csv.split('\r\n')).toEqual([
      'date,kind,credits,value,currency,description',
      '2026-11-01,opening,5,,,Credits at the start of the month',
      `2026-11-02,usage,-3,-0.03,usd,"'=HYPERLINK(""x"")"`,
      '2026-11-02,closing,2,,,Credits at the end of the month',
      '',
    ]);
  });
});
