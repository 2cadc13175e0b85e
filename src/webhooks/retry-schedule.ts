import { nextAttempt, retryDelay, type RetrySchedule } from '../database/outbox/outbox-retry.js';

/**
 * When a failed delivery is tried again (the outbox core's rule, `src/database/outbox/outbox-retry.ts`):
 * from 5 s, doubling up to 6 hours, with ±25 % jitter, for at least 3 days after the delivery was
 * queued; a failure after that is final.
 */
export const RETRY_WINDOW_MS = 3 * 24 * 60 * 60 * 1000;
/** An endpoint whose attempts have all failed for this long is disabled. */
export const ENDPOINT_FAILING_LIMIT_MS = RETRY_WINDOW_MS;
export const FIRST_RETRY_DELAY_MS = 5_000;
export const MAX_RETRY_DELAY_MS = 6 * 60 * 60 * 1000;
/** A claimed delivery is not due again for this long (an instance that dies mid-attempt). */
export const CLAIM_LEASE_MS = 60_000;

export const WEBHOOK_RETRY: RetrySchedule = {
  firstDelayMs: FIRST_RETRY_DELAY_MS,
  maxDelayMs: MAX_RETRY_DELAY_MS,
  windowMs: RETRY_WINDOW_MS,
};

/** The delay after the `attempts`-th failed attempt; `random` in [0, 1). */
export const retryDelayMs = (attempts: number, random?: () => number): number =>
  retryDelay(WEBHOOK_RETRY, attempts, random);

/** The next attempt after a failure at `now`, or null when the retry window is over (failed). */
export const nextAttemptAfterFailure = (
  now: Date,
  queuedAt: Date,
  attempts: number,
  random?: () => number,
): Date | null => nextAttempt(WEBHOOK_RETRY, now, queuedAt, attempts, random);
