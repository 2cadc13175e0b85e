import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { addMonths, periodAt, periodIndexAt, periodStart, type PlanPeriod } from './periods.js';

const iso = (s: string) => new Date(s);
const anchors = fc
  .date({ min: iso('1970-01-01T00:00:00Z'), max: iso('2400-12-31T23:59:59.999Z'), noInvalidDate: true })
  .map((d) => new Date(d.getTime()));
const periods = fc.constantFrom<PlanPeriod>('day', 'week', 'month');

describe('month arithmetic', () => {
  it('clamps to shorter months and returns to the anchor day (Jan 31 → Feb 28/29 → Mar 31)', () => {
    const jan31 = iso('2027-01-31T10:00:00Z');
    expect(addMonths(jan31, 1).toISOString()).toBe('2027-02-28T10:00:00.000Z');
    expect(addMonths(jan31, 2).toISOString()).toBe('2027-03-31T10:00:00.000Z');
    expect(addMonths(jan31, 3).toISOString()).toBe('2027-04-30T10:00:00.000Z');
    expect(addMonths(iso('2028-01-31T00:00:00Z'), 1).toISOString()).toBe('2028-02-29T00:00:00.000Z');
    expect(addMonths(iso('2100-01-29T00:00:00Z'), 1).toISOString()).toBe('2100-02-28T00:00:00.000Z');
    expect(addMonths(iso('2000-01-30T00:00:00Z'), 1).toISOString()).toBe('2000-02-29T00:00:00.000Z');
    expect(addMonths(iso('2026-12-15T23:59:59.999Z'), 1).toISOString()).toBe('2027-01-15T23:59:59.999Z');
    expect(addMonths(iso('2026-08-31T00:00:00Z'), 18).toISOString()).toBe('2028-02-29T00:00:00.000Z');
  });

  it('keeps the time of day and never drifts: period k is computed from the anchor', () => {
    fc.assert(
      fc.property(anchors, fc.integer({ min: 0, max: 1200 }), (anchor, k) => {
        const start = addMonths(anchor, k);
        expect(start.getUTCHours()).toBe(anchor.getUTCHours());
        expect(start.getUTCMinutes()).toBe(anchor.getUTCMinutes());
        expect(start.getUTCMilliseconds()).toBe(anchor.getUTCMilliseconds());
        const months = anchor.getUTCMonth() + k;
        expect(start.getUTCMonth()).toBe(months % 12);
        expect(start.getUTCFullYear()).toBe(anchor.getUTCFullYear() + Math.floor(months / 12));
        const lastDay = new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + 1, 0)).getUTCDate();
        expect(start.getUTCDate()).toBe(Math.min(anchor.getUTCDate(), lastDay));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('periods', () => {
  it('day and week periods are fixed lengths in UTC', () => {
    const anchor = iso('2026-03-28T12:00:00Z'); // a DST weekend in Europe: UTC does not care
    expect(periodStart(anchor, 'day', 2).toISOString()).toBe('2026-03-30T12:00:00.000Z');
    expect(periodStart(anchor, 'week', 1).toISOString()).toBe('2026-04-04T12:00:00.000Z');
  });

  it('every instant after the anchor lies in exactly the period periodAt names', () => {
    fc.assert(
      fc.property(anchors, periods, fc.integer({ min: 0, max: 40 * 366 * 86_400_000 }), (anchor, period, offset) => {
        const at = new Date(anchor.getTime() + offset);
        const p = periodAt(anchor, period, at)!;
        expect(p.start.getTime()).toBeLessThanOrEqual(at.getTime());
        expect(at.getTime()).toBeLessThan(p.end.getTime());
        expect(p.start.getTime()).toBe(periodStart(anchor, period, p.index).getTime());
        expect(p.end.getTime()).toBe(periodStart(anchor, period, p.index + 1).getTime());
      }),
      { numRuns: 3000 },
    );
  });

  it('periods are contiguous and strictly increasing; each start belongs to its own period', () => {
    fc.assert(
      fc.property(anchors, periods, fc.integer({ min: 0, max: 600 }), (anchor, period, k) => {
        const start = periodStart(anchor, period, k);
        const next = periodStart(anchor, period, k + 1);
        expect(next.getTime()).toBeGreaterThan(start.getTime());
        expect(periodIndexAt(anchor, period, start)).toBe(k);
        expect(periodIndexAt(anchor, period, new Date(next.getTime() - 1))).toBe(k);
      }),
      { numRuns: 3000 },
    );
  });

  it('month-end anchors across leap years: Jan 31 2028 → Feb 29 → Mar 31 → … → Feb 28 2029', () => {
    const anchor = iso('2028-01-31T00:00:00Z');
    const starts = Array.from({ length: 14 }, (_, k) => periodStart(anchor, 'month', k).toISOString().slice(0, 10));
    expect(starts).toEqual([
      '2028-01-31',
      '2028-02-29',
      '2028-03-31',
      '2028-04-30',
      '2028-05-31',
      '2028-06-30',
      '2028-07-31',
      '2028-08-31',
      '2028-09-30',
      '2028-10-31',
      '2028-11-30',
      '2028-12-31',
      '2029-01-31',
      '2029-02-28',
    ]);
  });

  it('nothing before the anchor', () => {
    const anchor = iso('2027-05-01T00:00:00Z');
    expect(periodAt(anchor, 'month', new Date(anchor.getTime() - 1))).toBeNull();
    expect(periodIndexAt(anchor, 'day', anchor)).toBe(0);
  });
});
