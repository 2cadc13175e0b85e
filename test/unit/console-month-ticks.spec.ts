import { describe, expect, it } from 'vitest';

import { monthTicks } from '../../console/src/lib/month-ticks.js';

/** The Finance chart's month labels: never closer than a label's room, the latest month always shown. */
describe('monthTicks', () => {
  const months = Array.from({ length: 12 }, (_, i) => i);

  it('keeps every month when their labels fit', () => {
    expect(monthTicks(months.slice(0, 6), 1000)).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('keeps every k-th month on a narrow chart, ending with the latest', () => {
    // 6 months on a phone's ~240 px plot: 64 px a label → every 2nd.
    expect(monthTicks(months.slice(0, 6), 240)).toEqual([1, 3, 5]);
    // 12 months on the same width → every 4th.
    expect(monthTicks(months, 240)).toEqual([3, 7, 11]);
    for (const width of [120, 240, 320, 500]) {
      const ticks = monthTicks(months, width);
      expect(ticks.at(-1)).toBe(11);
      expect((width / months.length) * (ticks[1] - ticks[0] || months.length)).toBeGreaterThanOrEqual(64);
    }
  });

  it('keeps one month when nothing else fits', () => {
    expect(monthTicks(months, 0)).toEqual([11]);
  });
});
