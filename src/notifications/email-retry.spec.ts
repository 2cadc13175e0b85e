import { describe, expect, it } from 'vitest';

import { EMAIL_RETRY_WINDOW_MS, emailRetryDelayMs, nextEmailAttempt } from './email-retry.js';

describe('email retries', () => {
  it('the first retry comes within a minute, later ones double up to an hour', () => {
    expect(emailRetryDelayMs(1, () => 0.999)).toBeLessThan(60_000);
    expect(emailRetryDelayMs(1, () => 0)).toBe(22_500);
    expect(emailRetryDelayMs(3, () => 0.5)).toBe(120_000);
    expect(emailRetryDelayMs(30, () => 0.5)).toBe(3_600_000);
  });

  it('retries for 3 days from the queueing, then gives up', () => {
    const queued = new Date('2026-11-01T00:00:00Z');
    const late = new Date(queued.getTime() + EMAIL_RETRY_WINDOW_MS - 1);
    expect(nextEmailAttempt(late, queued, 50, () => 0.5)).toEqual(new Date(late.getTime() + 3_600_000));
    expect(nextEmailAttempt(new Date(queued.getTime() + EMAIL_RETRY_WINDOW_MS), queued, 50)).toBeNull();
  });
});
