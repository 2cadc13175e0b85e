import { describe, expect, it } from 'vitest';

import { simulationDays } from './simulations.js';

describe('simulationDays', () => {
  it('cuts a range into days from its start, the last one shorter, covering it exactly once', () => {
    const from = new Date('2026-01-01T06:00:00Z');
    const to = new Date('2026-01-03T12:00:00Z');
    expect(simulationDays(from, to).map(([a, b]) => [a.toISOString(), b.toISOString()])).toEqual([
      ['2026-01-01T06:00:00.000Z', '2026-01-02T06:00:00.000Z'],
      ['2026-01-02T06:00:00.000Z', '2026-01-03T06:00:00.000Z'],
      ['2026-01-03T06:00:00.000Z', '2026-01-03T12:00:00.000Z'],
    ]);
  });

  it('an empty range has no day; a range of a minute is one', () => {
    const at = new Date('2026-01-01T00:00:00Z');
    expect(simulationDays(at, at)).toEqual([]);
    expect(simulationDays(at, new Date(at.getTime() + 60_000))).toHaveLength(1);
  });
});
