import { DomainError } from '../common/errors/domain-error.js';

/** A time window for SQL: `start` inclusive; `end` inclusive (a datetime) or exclusive (a date-only end). */
export interface DateRange {
  start: string | null;
  end: string | null;
  endInclusive: boolean;
}

const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2})?$/i;

function validDay(y: string, m: string, d: string): boolean {
  const date = new Date(Date.UTC(Number(y), Number(m) - 1, Number(d)));
  return date.getUTCFullYear() === Number(y) && date.getUTCMonth() === Number(m) - 1 && date.getUTCDate() === Number(d);
}

/** Parses one bound; returns the instant (ms) and whether the input was a bare date. */
function parseBound(name: string, value: string): { iso: string; ms: number; dateOnly: boolean } {
  const day = DATE_ONLY.exec(value);
  if (day) {
    if (!validDay(day[1], day[2], day[3])) throw new DomainError('VALIDATION', `${name} is not a valid date`);
    const iso = `${value}T00:00:00.000Z`;
    return { iso, ms: Date.parse(iso), dateOnly: true };
  }
  const dt = DATE_TIME.exec(value);
  if (
    dt &&
    validDay(dt[1], dt[2], dt[3]) &&
    Number(dt[4]) < 24 &&
    Number(dt[5]) < 60 &&
    (!dt[6] || Number(dt[6].slice(1, 3)) < 60)
  ) {
    // Without a zone the instant is read as UTC, like every timestamp of the API.
    const text = dt[8] ? value : `${value}Z`;
    const ms = Date.parse(text);
    if (!Number.isNaN(ms)) return { iso: text, ms, dateOnly: false };
  }
  throw new DomainError('VALIDATION', `${name} must be an ISO-8601 date (YYYY-MM-DD) or date-time`);
}

/**
 * Inclusive bounds: a date-only `startDate` starts at 00:00 UTC, a date-only `endDate` includes that
 * whole UTC day (the bound becomes the next midnight, exclusive). startDate after endDate → 400.
 */
export function parseDateRange(startDate?: string, endDate?: string): DateRange {
  const start = startDate === undefined ? null : parseBound('startDate', startDate);
  const end = endDate === undefined ? null : parseBound('endDate', endDate);
  let endIso: string | null = null;
  let endMs = Infinity;
  let endInclusive = true;
  if (end) {
    if (end.dateOnly) {
      endMs = end.ms + 86_400_000;
      endIso = new Date(endMs).toISOString();
      endInclusive = false;
    } else {
      endMs = end.ms;
      endIso = end.iso;
    }
  }
  if (start && (endInclusive ? start.ms > endMs : start.ms >= endMs)) {
    throw new DomainError('VALIDATION', 'startDate must not be after endDate');
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
