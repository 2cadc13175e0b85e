/**
 * When a failed email is tried again: from 30 s (with ±25 % jitter, so the first retry comes within
 * a minute), doubling up to an hour, for 3 days after the email was queued; a failure after that is
 * final (`failed`).
 */
export const EMAIL_RETRY_WINDOW_MS = 3 * 24 * 60 * 60 * 1000;
export const EMAIL_FIRST_RETRY_MS = 30_000;
export const EMAIL_MAX_RETRY_MS = 60 * 60 * 1000;
/**
 * A claimed email is not due again for this long: far longer than an attempt can take (every SMTP
 * wait is bounded, src/notifications/mailer.ts), so no other instance sends it while one is.
 */
export const EMAIL_CLAIM_LEASE_MS = 10 * 60 * 1000;

export function emailRetryDelayMs(attempts: number, random: () => number = Math.random): number {
  const base = Math.min(EMAIL_FIRST_RETRY_MS * 2 ** Math.max(0, attempts - 1), EMAIL_MAX_RETRY_MS);
  return Math.round(base * (0.75 + 0.5 * random()));
}

/** The next attempt after a failure at `now`, or null once the window is over. */
export function nextEmailAttempt(now: Date, queuedAt: Date, attempts: number, random?: () => number): Date | null {
  if (now.getTime() - queuedAt.getTime() >= EMAIL_RETRY_WINDOW_MS) return null;
  return new Date(now.getTime() + emailRetryDelayMs(attempts, random));
}
