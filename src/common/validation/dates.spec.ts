import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { MAX_INSTANT_MS, MIN_INSTANT_MS, parseInstant } from './dates.js';

describe('parseInstant', () => {
  it('reads dates and date-times with zones exactly', () => {
    expect(parseInstant('2026-11-22')).toMatchObject({ ms: Date.UTC(2026, 10, 22), dateOnly: true });
    expect(parseInstant('2026-11-22T10:30')?.ms).toBe(Date.UTC(2026, 10, 22, 10, 30));
    expect(parseInstant('2026-11-22T10:30:15.123456+02:00')).toMatchObject({
      ms: Date.UTC(2026, 10, 22, 8, 30, 15, 123),
      iso: '2026-11-22T10:30:15.123456+02:00',
      dateOnly: false,
    });
    expect(parseInstant('2024-02-29')).not.toBeNull();
    expect(parseInstant('0001-01-01')?.ms).toBe(MIN_INSTANT_MS);
  });

  it.each(['2023-02-29', '2026-02-30', '0000-01-01', '2027-326', '20271122', '2027-W47', '2026-11-22T24:00', 'x', ''])(
    'refuses %s',
    (bad) => expect(parseInstant(bad)).toBeNull(),
  );

  it('agrees with Date for every instant it can print (property)', () => {
    fc.assert(
      fc.property(
        fc.date({ min: new Date(MIN_INSTANT_MS), max: new Date(MAX_INSTANT_MS), noInvalidDate: true }),
        (d) => {
          expect(parseInstant(d.toISOString())?.ms).toBe(d.getTime());
        },
      ),
    );
  });
});
