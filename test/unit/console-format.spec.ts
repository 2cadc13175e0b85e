import { describe, expect, it } from 'vitest';

import { credits, errorMessage, utc, utcDay, utcDaysAgo } from '../../console/src/lib/format.js';
import { changeOf, describeChange, valueText } from '../../console/src/screens/audit-change.js';

/** The console's number and date rules: integers as given, every day and time in UTC. */
describe('console formatting', () => {
  it('shows credits as grouped integers and nothing for a missing value', () => {
    expect(credits(2_147_483_647)).toBe('2,147,483,647');
    expect(credits(-250)).toBe('-250');
    expect(credits(0)).toBe('0');
    expect(credits(null)).toBe('—');
  });

  it('shows instants and days in UTC whatever the local timezone', () => {
    expect(utc('2026-03-01T23:30:00.000Z')).toBe('2026-03-01 23:30:00 UTC');
    expect(utcDay('2026-03-01T23:30:00.000Z')).toBe('2026-03-01');
    expect(utc(null)).toBe('—');
    // 00:30 UTC on the 1st is still the 1st in UTC (the 28th/29th west of Greenwich).
    const now = new Date('2026-03-01T00:30:00Z');
    expect(utcDaysAgo(0, now)).toBe('2026-03-01');
    expect(utcDaysAgo(1, now)).toBe('2026-02-28');
    expect(utcDaysAgo(29, now)).toBe('2026-01-31');
  });

  it('reads the message of an API error body, one or many', () => {
    expect(errorMessage({ statusCode: 400, message: ['credits must not be less than 1', 'x'] })).toBe(
      'credits must not be less than 1; x',
    );
    expect(errorMessage({ statusCode: 403, message: 'Forbidden' })).toBe('Forbidden');
    expect(errorMessage('boom')).toBe('boom');
  });

  it('describes an audit entry by the fields it changed, never the whole object with its nulls', () => {
    expect(
      describeChange(
        { remainingCredits: 250, voidReason: null, id: 'a', notes: null },
        { remainingCredits: 0, voidReason: 'x', id: 'a', notes: null },
      ),
    ).toBe('remainingCredits: 250 → 0\nvoidReason: — → x');
    // A creation: what it set, without nulls and without the id the target names.
    expect(describeChange(null, { id: 'a', totalCredits: 250, notes: null, voidedAt: null }, 'a')).toBe(
      'totalCredits: 250',
    );
    expect(changeOf({ id: 'k', name: 'gw', expiresAt: null }, null, 'k')).toEqual({
      kind: 'deleted',
      fields: [{ field: 'name', before: 'gw', after: null }],
    });
    // Nested objects by path: only the kind that changed.
    expect(
      describeChange(
        { providerCost: { input: '1.0000', output: '2.0000' }, events: ['*'] },
        { providerCost: { input: '1.0000', output: '3.0000' }, events: ['webhook.test'] },
      ),
    ).toBe('providerCost.output: 2.0000 → 3.0000\nevents: ["*"] → ["webhook.test"]');
    expect(describeChange({ id: 'a' }, { id: 'a' })).toBe('no change');
    expect(valueText('')).toBe('""');
  });
});
