import { nextAttempt, retryDelay, type RetrySchedule } from '../database/outbox/outbox-retry.js';

/**
 * When a failed email is tried again (the outbox core's rule, `src/database/outbox/outbox-retry.ts`): from
 * 30 s (with ±25 % jitter, so the first retry comes within a minute), doubling up to an hour, for 3
 * days after the email was queued; a failure after that is final (`failed`).
 */
export const EMAIL_RETRY_WINDOW_MS = 3 * 24 * 60 * 60 * 1000;
export const EMAIL_FIRST_RETRY_MS = 30_000;
export const EMAIL_MAX_RETRY_MS = 60 * 60 * 1000;
/**
 * A claimed email is not due again for this long: far longer than an attempt can take (every SMTP
 * wait is bounded, src/notifications/mailer.ts), so no other instance sends it while one is.
 */
export const EMAIL_CLAIM_LEASE_MS = 10 * 60 * 1000;

export const EMAIL_RETRY: RetrySchedule = {
  firstDelayMs: EMAIL_FIRST_RETRY_MS,
  maxDelayMs: EMAIL_MAX_RETRY_MS,
  windowMs: EMAIL_RETRY_WINDOW_MS,
};

export const emailRetryDelayMs = (attempts: number, random?: () => number): number =>
  retryDelay(EMAIL_RETRY, attempts, random);

/** The next attempt after a failure at `now`, or null once the window is over. */
export const nextEmailAttempt = (now: Date, queuedAt: Date, attempts: number, random?: () => number): Date | null =>
  nextAttempt(EMAIL_RETRY, now, queuedAt, attempts, random);
