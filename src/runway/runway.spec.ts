import { describe, expect, it } from 'vitest';

import { DAY_MS, perDay, projectRunway, type RunwayInput, thresholdsReached } from './runway.js';

const asOf = Date.UTC(2026, 10, 10);
const at = (days: number) => asOf + days * DAY_MS;
const base: RunwayInput = { asOf, days: 14, burned: 140n, lots: [], grants: [], recharge: null };

describe('projectRunway', () => {
  it('spends the balance at the burn, rounding the instant up to the millisecond', () => {
    expect(projectRunway({ ...base, lots: [{ credits: 860, expiresAt: null }] })).toEqual({
      runsOutAt: at(86),
      cause: 'burn',
      expiringBeforeUse: 0,
    });
    // 100 credits at 140/3 a day: 300/140 days = 185142857.14… ms, up to the next millisecond.
    expect(projectRunway({ ...base, days: 3, lots: [{ credits: 100, expiresAt: null }] }).runsOutAt).toBe(
      asOf + 185_142_858,
    );
  });

  it('an empty balance has run out at asOf; no burn never runs out', () => {
    expect(projectRunway({ ...base }).runsOutAt).toBe(asOf);
    expect(projectRunway({ ...base, burned: 0n, lots: [{ credits: 5, expiresAt: at(3) }] })).toEqual({
      runsOutAt: null,
      cause: null,
      expiringBeforeUse: 5,
    });
    // Corrections that gave back more than the window used: no burn either.
    expect(projectRunway({ ...base, burned: -20n, lots: [{ credits: 5, expiresAt: null }] }).runsOutAt).toBeNull();
  });

  it('a debt takes its share of the grants and top-ups to come first', () => {
    const grants = [
      { at: at(2), credits: 30, expiresAt: null },
      { at: at(4), credits: 30, expiresAt: null },
    ];
    const lots = [{ credits: 50, expiresAt: null }];
    // Without a debt: 50 + 60 at 10 a day.
    expect(projectRunway({ ...base, lots, grants }).runsOutAt).toBe(at(11));
    // 40 owed: the first grant repays 30, the second 10 and brings 20.
    expect(projectRunway({ ...base, lots, grants, debt: 40 }).runsOutAt).toBe(at(7));
    const recharge = { below: 10, credits: 100, intervalMs: 40 * DAY_MS, monthCap: null, lastAt: null, monthUsed: 0 };
    // A top-up of 100 when 50 falls below 10 (day 4), 25 of it owed: 125 credits in all, 12½ days.
    expect(projectRunway({ ...base, lots, recharge, debt: 25 }).runsOutAt).toBe(at(12.5));
  });

  it('a grant arriving as a lot expires keeps the runway going', () => {
    const projection = projectRunway({
      ...base,
      lots: [{ credits: 100, expiresAt: at(5) }],
      grants: [{ at: at(5), credits: 30, expiresAt: at(400) }],
    });
    // 50 spent by day 5, 50 expire, the grant's 30 last 3 days.
    expect(projection).toEqual({ runsOutAt: at(8), cause: 'burn', expiringBeforeUse: 50 });
  });

  it('auto-recharge waits for the next UTC month once the cap is reached', () => {
    const projection = projectRunway({
      ...base,
      asOf: Date.UTC(2026, 10, 25),
      lots: [{ credits: 40, expiresAt: null }],
      recharge: { below: 50, credits: 100, intervalMs: 0, monthCap: 100, lastAt: null, monthUsed: 100 },
    });
    // November's cap is spent: 40 credits last 4 days (to Nov 29), before December's top-up.
    expect(projection.runsOutAt).toBe(Date.UTC(2026, 10, 29));
    const december = projectRunway({
      ...base,
      asOf: Date.UTC(2026, 10, 28),
      lots: [{ credits: 40, expiresAt: null }],
      recharge: { below: 50, credits: 100, intervalMs: 0, monthCap: 100, lastAt: null, monthUsed: 100 },
    });
    // From Nov 28: Dec 1 brings 100 (10 of the 40 left), then 110 last 11 days: Dec 12.
    expect(december.runsOutAt).toBe(Date.UTC(2026, 11, 12));
  });
});

describe('perDay', () => {
  it('is a decimal string with four places, half up', () => {
    expect(perDay(140n, 14)).toBe('10.0000');
    expect(perDay(100n, 14)).toBe('7.1429');
    expect(perDay(1n, 8)).toBe('0.1250');
    expect(perDay(1n, 3)).toBe('0.3333');
    expect(perDay(2n, 3)).toBe('0.6667');
    expect(perDay(-5n, 3)).toBe('0.0000');
  });
});

describe('thresholdsReached', () => {
  it('answers the thresholds the run-out is within, at the boundary included', () => {
    const now = Date.UTC(2026, 10, 1);
    expect(thresholdsReached(now + 8 * DAY_MS, now, [7, 3, 1])).toEqual([]);
    expect(thresholdsReached(now + 7 * DAY_MS, now, [7, 3, 1])).toEqual([7]);
    expect(thresholdsReached(now + 7 * DAY_MS + 1, now, [7, 3, 1])).toEqual([]);
    expect(thresholdsReached(now + 2.5 * DAY_MS, now, [7, 3, 1])).toEqual([7, 3]);
    expect(thresholdsReached(now, now, [7, 3, 1])).toEqual([7, 3, 1]);
  });
});
