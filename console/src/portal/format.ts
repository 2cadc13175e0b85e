/**
 * Numbers and dates in the reader's locale (`Intl`, the browser's language and time zone). Credits
 * are integers; money stays the API's decimal string (Intl formats the string exactly). The usage
 * chart's days are UTC days, the API's, and are labelled so.
 */
const integer = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });
const day = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium' });
const dayTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const shortDayTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'short', timeStyle: 'short' });
const utcShortDay = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', timeZone: 'UTC' });
const utcDay = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeZone: 'UTC' });
const utcMonth = new Intl.DateTimeFormat(undefined, { month: 'long', year: 'numeric', timeZone: 'UTC' });

export const credits = (n: number): string => integer.format(n);

export const date = (iso: string): string => day.format(new Date(iso));

export const dateTime = (iso: string): string => dayTime.format(new Date(iso));

export const shortDateTime = (iso: string): string => shortDayTime.format(new Date(iso));

/** A UTC day (`YYYY-MM-DD`), short ("Nov 24") or long. */
export const utcDayLabel = (ymd: string, long = false): string =>
  (long ? utcDay : utcShortDay).format(new Date(`${ymd}T00:00:00Z`));

/** A UTC month (`YYYY-MM`): "November 2026". */
export const utcMonthLabel = (ym: string): string => utcMonth.format(new Date(`${ym}-01T00:00:00Z`));

/** The last `count` UTC months as `YYYY-MM`, the current one first. */
export function utcMonths(count: number, today = new Date()): string[] {
  return Array.from({ length: count }, (_, i) =>
    new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth() - i, 1)).toISOString().slice(0, 7),
  );
}

export function money(amount: string, currency: string): string {
  try {
    const format = new Intl.NumberFormat(undefined, { style: 'currency', currency: currency.toUpperCase() });
    return format.format(amount as Intl.StringNumericLiteral);
  } catch {
    return `${amount} ${currency.toUpperCase()}`;
  }
}

/** `YYYY-MM-DD` of the UTC day `offset` days from `from`. */
export function utcYmd(from: Date, offset = 0): string {
  return new Date(from.getTime() + offset * 86_400_000).toISOString().slice(0, 10);
}
