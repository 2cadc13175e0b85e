/**
 * How an outbox retries a failed attempt: exponential backoff from `firstDelayMs`, doubling up to
 * `maxDelayMs`, with ±25 % jitter (rows failing together do not retry together), for `windowMs` after
 * the row was queued; a failure after that is final (the row is dead-lettered as `failed`). Each
 * outbox (webhooks, email) names its own figures; the rule is this one.
 */
export interface RetrySchedule {
  firstDelayMs: number;
  maxDelayMs: number;
  windowMs: number;
}

/** The delay after the `attempts`-th failed attempt; `random` in [0, 1). */
export function retryDelay(schedule: RetrySchedule, attempts: number, random: () => number = Math.random): number {
  const base = Math.min(schedule.firstDelayMs * 2 ** Math.max(0, attempts - 1), schedule.maxDelayMs);
  return Math.round(base * (0.75 + 0.5 * random()));
}

/** The next attempt after a failure at `now`, or null when the window is over (dead-lettered). */
export function nextAttempt(
  schedule: RetrySchedule,
  now: Date,
  queuedAt: Date,
  attempts: number,
  random: () => number = Math.random,
): Date | null {
  if (now.getTime() - queuedAt.getTime() >= schedule.windowMs) return null;
  return new Date(now.getTime() + retryDelay(schedule, attempts, random));
}
