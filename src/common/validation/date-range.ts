import { DomainError } from '../errors/domain-error.js';
import { type Instant, MAX_INSTANT_MS, parseInstant } from './dates.js';

/** A time window for SQL: `start` inclusive; `end` inclusive (a datetime) or exclusive (a date-only end). */
export interface DateRange {
  start: string | null;
  end: string | null;
  endInclusive: boolean;
}

/** Parses one bound with the API's one date parser. */
function parseBound(name: string, value: string): Instant {
  const instant = parseInstant(value);
  if (!instant) {
    throw new DomainError(
      'VALIDATION',
      `${name} must be an ISO-8601 date (YYYY-MM-DD) or date-time between years 0001 and 9999`,
    );
  }
  return instant;
}

/**
 * Inclusive bounds (named `startDate`/`endDate` unless `names` says otherwise, e.g. `from`/`to`):
 * a date-only `startDate` starts at 00:00 UTC, a date-only `endDate` includes that
 * whole UTC day (the bound becomes the next midnight, exclusive). startDate after endDate → 400.
 */
export function parseDateRange(
  startDate?: string,
  endDate?: string,
  names: [start: string, end: string] = ['startDate', 'endDate'],
): DateRange {
  const start = startDate === undefined ? null : parseBound(names[0], startDate);
  const end = endDate === undefined ? null : parseBound(names[1], endDate);
  let endIso: string | null = null;
  let endMs = Infinity;
  let endInclusive = true;
  if (end) {
    if (end.dateOnly) {
      endMs = end.ms + 86_400_000;
      // The day after 9999-12-31 is beyond every timestamp the service stores: no upper bound at all.
      endIso = endMs > MAX_INSTANT_MS ? null : new Date(endMs).toISOString();
      endInclusive = false;
    } else {
      endMs = end.ms;
      endIso = end.iso;
    }
  }
  if (start && (endInclusive ? start.ms > endMs : start.ms >= endMs)) {
    throw new DomainError('VALIDATION', `${names[0]} must not be after ${names[1]}`);
  }
  return { start: start?.iso ?? null, end: endIso, endInclusive };
}

/** SQL conditions on `column` for the range, appending the values to `params`. */
export function rangeSql(range: DateRange, column: string, params: unknown[]): string[] {
  const where: string[] = [];
  if (range.start) {
    params.push(range.start);
    where.push(`${column} >= $${params.length}::timestamptz`);
  }
  if (range.end) {
    params.push(range.end);
    where.push(`${column} ${range.endInclusive ? '<=' : '<'} $${params.length}::timestamptz`);
  }
  return where;
}
