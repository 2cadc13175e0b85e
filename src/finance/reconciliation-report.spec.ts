import { describe, expect, it } from 'vitest';

import { fromThousandths, parseReport, type PurchaseFacts, reconcile, toThousandths } from './reconciliation-report.js';

const HEADER =
  'balance_transaction_id,created_utc,currency,gross,fee,net,reporting_category,payment_intent_id,automatic_payout_id';

const purchase = (id: string, fields: Partial<PurchaseFacts> = {}): PurchaseFacts => ({
  id,
  paymentIntentId: `pi_${id}`,
  amount: '10.00',
  currency: 'usd',
  refundedAmount: '0.00',
  status: 'paid',
  paidAt: new Date('2026-11-03T10:00:00.400Z'),
  ...fields,
});

describe('the payout report', () => {
  it('reads amounts exactly, in thousandths, and writes them back', () => {
    expect(toThousandths('10.00')).toBe(10_000n);
    expect(toThousandths('-0.1')).toBe(-100n);
    expect(toThousandths('1000')).toBe(1_000_000n);
    expect(fromThousandths(-4_000n)).toBe('-4.00');
    expect(fromThousandths(1_234n)).toBe('1.234');
  });

  it('reads rows by column name, whatever their order, with Stripe’s UTC times', () => {
    const rows = parseReport(
      `\uFEFFextra,${HEADER}\r\n"a, b",txn_1,2026-11-03 10:00:00,USD,10.50,0,0,charge,pi_a,po_1\r\n`,
    );
    expect(rows).toEqual([
      {
        line: 2,
        balanceTransactionId: 'txn_1',
        createdAt: new Date('2026-11-03T10:00:00Z'),
        currency: 'usd',
        gross: 10_500n,
        category: 'charge',
        paymentIntentId: 'pi_a',
        payoutId: 'po_1',
      },
    ]);
  });

  it('names the missing columns, and the line of a row that is not valid', () => {
    expect(() => parseReport('balance_transaction_id,gross\n')).toThrow(
      'The report lacks the required columns: created_utc, currency, fee, net, reporting_category, payment_intent_id, automatic_payout_id',
    );
    expect(() => parseReport(`${HEADER}\ntxn_1,yesterday,usd,1,0,1,charge,,\n`)).toThrow(
      /^Line 2 of the report: created_utc/,
    );
    expect(() => parseReport('')).toThrow(/empty/);
  });
});

describe('reconcile', () => {
  const rows = (lines: string[]) => parseReport([HEADER, ...lines].join('\n'));

  it('matches charges by amount, refunds by their sum, disputes by a lost dispute; lists the rest', () => {
    const report = rows([
      'txn_1,2026-11-03 10:00:00,usd,10.00,0.59,9.41,charge,pi_a,po_1',
      'txn_2,2026-11-03 10:00:00,usd,-1.00,0,-1.00,refund,pi_a,po_1',
      'txn_3,2026-11-03 10:00:00,usd,-2.00,0,-2.00,refund,pi_a,po_1',
      'txn_4,2026-11-03 11:00:00,usd,10.00,0.59,9.41,charge,pi_b,po_1',
      'txn_5,2026-11-03 11:00:00,usd,-10.00,15,-25.00,dispute,pi_b,po_1',
      'txn_6,2026-11-03 11:00:00,usd,5.00,0.3,4.70,charge,pi_zz,po_2',
      'txn_7,2026-11-03 12:00:00,usd,-2.00,0,-2.00,fee,,po_2',
    ]);
    const a = purchase('a', { refundedAmount: '3.00' });
    const b = purchase('b', { status: 'disputed' });
    const c = purchase('c', { paidAt: new Date('2026-11-03T11:00:00.900Z') });
    const byIntent = new Map([a, b].map((p) => [p.paymentIntentId, p]));
    expect(reconcile(report, byIntent, [a, b, c])).toEqual({
      payouts: ['po_1', 'po_2'],
      rows: 7,
      matched: 4,
      mismatched: [
        {
          balanceTransactionId: 'txn_5',
          category: 'dispute',
          purchaseId: 'b',
          expected: 'charged_back',
          got: 'disputed',
        },
      ],
      unknown: [{ balanceTransactionId: 'txn_6', category: 'charge', gross: '5.00', paymentIntentId: 'pi_zz' }],
      missing: [{ purchaseId: 'c', amount: '10.00', paidAt: '2026-11-03T11:00:00.900Z' }],
    });
  });

  it('a charge of another amount, and refunds that do not add up, are mismatched', () => {
    const report = rows([
      'txn_1,2026-11-03 10:00:00,usd,9.99,0.59,9.40,charge,pi_a,po_1',
      'txn_2,2026-11-03 10:00:00,usd,-1.00,0,-1.00,refund,pi_a,po_1',
    ]);
    const a = purchase('a', { refundedAmount: '4.00' });
    const result = reconcile(report, new Map([[a.paymentIntentId, a]]), []);
    expect(result.matched).toBe(0);
    expect(result.mismatched).toEqual([
      { balanceTransactionId: 'txn_1', category: 'charge', purchaseId: 'a', expected: '10.00', got: '9.99' },
      { balanceTransactionId: 'txn_2', category: 'refund', purchaseId: 'a', expected: '4.00', got: '1.00' },
    ]);
  });
});
