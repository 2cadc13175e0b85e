/**
 * When a failed delivery is tried again: exponential backoff from 5 s, doubling up to 6 hours, with
 * ±25 % jitter (so deliveries failing together do not retry together), for at least 3 days after the
 * delivery was queued; a failure after that is final.
 */
export const RETRY_WINDOW_MS = 3 * 24 * 60 * 60 * 1000;
/** An endpoint whose attempts have all failed for this long is disabled. */
export const ENDPOINT_FAILING_LIMIT_MS = RETRY_WINDOW_MS;
export const FIRST_RETRY_DELAY_MS = 5_000;
export const MAX_RETRY_DELAY_MS = 6 * 60 * 60 * 1000;
/** A claimed delivery is not due again for this long (an instance that dies mid-attempt). */
export const CLAIM_LEASE_MS = 60_000;

/** The delay after the `attempts`-th failed attempt; `random` in [0, 1). */
export function retryDelayMs(attempts: number, random: () => number = Math.random): number {
  const base = Math.min(FIRST_RETRY_DELAY_MS * 2 ** Math.max(0, attempts - 1), MAX_RETRY_DELAY_MS);
  return Math.round(base * (0.75 + 0.5 * random()));
}

/** The next attempt after a failure at `now`, or null when the retry window is over (failed). */
export function nextAttemptAfterFailure(
  now: Date,
  queuedAt: Date,
  attempts: number,
  random: () => number = Math.random,
): Date | null {
  if (now.getTime() - queuedAt.getTime() >= RETRY_WINDOW_MS) return null;
  return new Date(now.getTime() + retryDelayMs(attempts, random));
}
