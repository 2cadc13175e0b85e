import { DomainError } from '../common/errors/domain-error.js';
import { parseInstant } from '../common/validation/dates.js';

/** How far ahead of now a write may say its usage occurred (clocks of metering hosts drift). */
export const OCCURRED_AT_AHEAD_MS = 5 * 60_000;

/** The shortest time an event id is remembered, in days (docs/usage.md "Batch ingestion"). */
export const EVENT_ID_MIN_RETENTION_DAYS = 35;

/**
 * How long an event id is remembered: as long as an event that carries it may still be accepted, so
 * a late retry is answered as a duplicate rather than recorded twice.
 */
export function eventIdRetentionDays(lateUsageDays: number): number {
  return Math.max(EVENT_ID_MIN_RETENTION_DAYS, lateUsageDays);
}

/**
 * A write's `occurredAt` checked against the window it may fall in, from `now − lateUsageDays` to
 * `now + 5 minutes` (both inclusive): the instant (ms, and the ISO text with its microseconds for
 * SQL), or OCCURRED_AT_OUT_OF_RANGE.
 */
export function occurredAtIn(value: string, now: number, lateUsageDays: number): { ms: number; iso: string } {
  const instant = parseInstant(value);
  if (!instant) throw new DomainError('VALIDATION', 'occurredAt must be an ISO-8601 date-time');
  const earliest = now - lateUsageDays * 86_400_000;
  const latest = now + OCCURRED_AT_AHEAD_MS;
  if (instant.ms < earliest || instant.ms > latest) {
    throw new DomainError(
      'OCCURRED_AT_OUT_OF_RANGE',
      `occurredAt must lie between ${new Date(earliest).toISOString()} (LATE_USAGE_DAYS = ${lateUsageDays}) ` +
        `and ${new Date(latest).toISOString()}`,
    );
  }
  return { ms: instant.ms, iso: instant.iso };
}
