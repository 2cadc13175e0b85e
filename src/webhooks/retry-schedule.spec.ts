import { describe, expect, it } from 'vitest';

import { MAX_RETRY_DELAY_MS, nextAttemptAfterFailure, RETRY_WINDOW_MS, retryDelayMs } from './retry-schedule.js';

describe('retry schedule', () => {
  it('doubles from 5 s up to 6 h, jittered by at most ±25 %', () => {
    const mid = () => 0.5;
    expect([1, 2, 3, 4, 5].map((n) => retryDelayMs(n, mid))).toEqual([5_000, 10_000, 20_000, 40_000, 80_000]);
    expect(retryDelayMs(30, mid)).toBe(MAX_RETRY_DELAY_MS);
    expect(retryDelayMs(1, () => 0)).toBe(3_750);
    expect(retryDelayMs(1, () => 0.999_999)).toBe(6_250);
  });

  it('keeps retrying for at least 3 days, then gives up', () => {
    const queued = new Date('2026-01-01T00:00:00Z');
    let now = queued;
    let attempts = 1;
    for (;;) {
      const next = nextAttemptAfterFailure(now, queued, attempts, Math.random);
      if (!next) break;
      expect(next.getTime()).toBeGreaterThan(now.getTime());
      now = next;
      attempts++;
    }
    expect(now.getTime() - queued.getTime()).toBeGreaterThanOrEqual(RETRY_WINDOW_MS);
    expect(now.getTime() - queued.getTime()).toBeLessThan(RETRY_WINDOW_MS + 1.25 * MAX_RETRY_DELAY_MS);
    expect(attempts).toBeGreaterThan(15);
  });
});
