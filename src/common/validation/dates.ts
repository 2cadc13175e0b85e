import { registerDecorator, type ValidationArguments, type ValidationOptions } from 'class-validator';

/**
 * The one date parser of the API. Accepts ISO-8601 calendar dates (`YYYY-MM-DD`) and date-times
 * (`YYYY-MM-DDTHH:MM[:SS[.ffffff]]` with `Z`, `±HH:MM` or no zone, which means UTC), with real
 * calendar days and times, between years 0001 and 9999: what PostgreSQL and `Date#toISOString` both
 * hold. Ordinal ("2027-326"), basic ("20271122") and week ("2027-W47") forms are refused: they are
 * ISO-8601 but nothing here would read them the same way.
 */
const DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?(Z|[+-](\d{2}):(\d{2}))?)?$/i;

export interface Instant {
  /** Milliseconds since the epoch (sub-millisecond digits are kept in `iso`). */
  ms: number;
  /** The instant for SQL: `YYYY-MM-DDTHH:MM:SS.ffffff+HH:MM` as given, or with `Z`. */
  iso: string;
  /** The input was a bare date (midnight UTC). */
  dateOnly: boolean;
}

export const MIN_INSTANT_MS = new Date('0001-01-01T00:00:00.000Z').getTime();
export const MAX_INSTANT_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/** Parses a date or date-time; null when it is not one (or outside years 0001–9999). */
export function parseInstant(value: unknown): Instant | null {
  if (typeof value !== 'string') return null;
  const m = DATE_TIME.exec(value);
  if (!m) return null;
  const [, y, mo, d, h = '00', mi = '00', s = '00', frac = '', zone, zh = '00', zm = '00'] = m;
  const year = Number(y);
  const month = Number(mo) - 1;
  const day = Number(d);
  if (year < 1 || Number(h) > 23 || Number(mi) > 59 || Number(s) > 59 || Number(zh) > 23 || Number(zm) > 59)
    return null;
  const date = new Date(0);
  date.setUTCFullYear(year, month, day);
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month || date.getUTCDate() !== day) return null;
  const offsetMinutes =
    zone && zone.toUpperCase() !== 'Z' ? (zone[0] === '-' ? -1 : 1) * (Number(zh) * 60 + Number(zm)) : 0;
  const ms =
    date.getTime() +
    ((Number(h) * 60 + Number(mi) - offsetMinutes) * 60 + Number(s)) * 1000 +
    Number(frac.padEnd(3, '0').slice(0, 3));
  if (ms < MIN_INSTANT_MS || ms > MAX_INSTANT_MS) return null;
  const dateOnly = m[4] === undefined;
  const zoneText = !zone || zone.toUpperCase() === 'Z' ? 'Z' : `${zone[0]}${zh}:${zm}`;
  const iso = `${y}-${mo}-${d}T${h}:${mi}:${s}.${frac.padEnd(6, '0')}${zoneText}`;
  return { ms, iso, dateOnly };
}

/** The Date of a value the `IsInstant` decorator accepted. */
export function toDate(value: string): Date {
  const instant = parseInstant(value);
  if (!instant) throw new TypeError(`not an instant: ${value}`);
  return new Date(instant.ms);
}

/** A property holding a date or date-time `parseInstant` accepts; `future` also needs it after now. */
export function IsInstant(options: { future?: boolean } = {}, validationOptions?: ValidationOptions) {
  return (object: object, propertyName: string) =>
    registerDecorator({
      name: options.future ? 'isFutureInstant' : 'isInstant',
      target: object.constructor,
      propertyName,
      options: validationOptions,
      validator: {
        validate: (value: unknown) => {
          const instant = parseInstant(value);
          return instant !== null && (!options.future || instant.ms > Date.now());
        },
        defaultMessage: (args?: ValidationArguments) =>
          parseInstant(args?.value) === null
            ? `${args?.property} must be an ISO-8601 date (YYYY-MM-DD) or date-time (YYYY-MM-DDTHH:MM:SSZ) between years 0001 and 9999`
            : `${args?.property} must be in the future`,
      },
    });
}
