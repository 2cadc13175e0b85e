import { isObject } from '../../common/is-object.js';
import { minorUnits } from '../../common/money/currencies.js';

/** The most significant digits a rate may have. */
export const FX_RATE_DIGITS = 10;
/** The most rates one day may hold (ISO 4217 lists fewer currencies). */
export const FX_RATES_PER_DAY = 200;

/** One day's rates as stored: currency → rate (canonical decimal text), the reporting currency left out. */
export interface FxDayRates {
  date: string;
  rates: Record<string, string>;
}

/**
 * Why `rate` is not an FX rate, or null: a decimal string > 0 of at most FX_RATE_DIGITS significant
 * digits ("1.0812", "0.006712", "3.2605"); no sign, exponent or spaces.
 */
export function fxRateProblem(rate: unknown): string | null {
  if (typeof rate !== 'string' || !/^\d{1,30}(\.\d{1,30})?$/.test(rate)) {
    return 'must be a decimal string (e.g. "1.0812")';
  }
  const digits = significantDigits(rate);
  if (digits === '') return 'must be more than 0';
  if (digits.length > FX_RATE_DIGITS) return `must have at most ${FX_RATE_DIGITS} significant digits`;
  return null;
}

/** "001.081200" → "1.0812": no leading zeros, no trailing zeros after the point. */
export function canonicalRate(rate: string): string {
  const [whole, fraction = ''] = rate.split('.');
  const w = whole.replace(/^0+(?=\d)/, '');
  const f = fraction.replace(/0+$/, '');
  return f === '' ? w : `${w}.${f}`;
}

function significantDigits(rate: string): string {
  return canonicalRate(rate).replace('.', '').replace(/^0+/, '');
}

/** Why `date` is not a UTC day (YYYY-MM-DD), or null. */
export function dayProblem(date: unknown): string | null {
  if (typeof date !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(date)) return 'date must be a UTC day (YYYY-MM-DD)';
  const parsed = new Date(`${date}T00:00:00.000Z`);
  if (Number.isNaN(parsed.getTime()) || parsed.toISOString().slice(0, 10) !== date) {
    return 'date must be a UTC day (YYYY-MM-DD)';
  }
  return null;
}

/**
 * A day's rates checked whole (a PUT's body, or a feed's once its base is checked): the problems
 * found, each naming its field, or the rates to store. A rate for the reporting currency itself
 * must be 1 and is not stored (it is 1 by definition).
 */
export function checkDayRates(
  body: { date?: unknown; rates?: unknown },
  reporting: string,
): { problems: string[] } | { day: FxDayRates } {
  const problems: string[] = [];
  const date = dayProblem(body.date);
  if (date !== null) problems.push(date);
  const rates: Record<string, string> = {};
  if (!isObject(body.rates)) {
    problems.push('rates must be an object of currency → rate');
  } else {
    const entries = Object.entries(body.rates);
    if (entries.length === 0) problems.push('rates must name at least one currency');
    if (entries.length > FX_RATES_PER_DAY) problems.push(`rates must name at most ${FX_RATES_PER_DAY} currencies`);
    for (const [currency, rate] of entries.slice(0, FX_RATES_PER_DAY)) {
      if (minorUnits(currency) === undefined) {
        problems.push(`rates.${currency.slice(0, 20)}: not an ISO 4217 code in lowercase`);
        continue;
      }
      const problem = fxRateProblem(rate);
      if (problem !== null) problems.push(`rates.${currency} ${problem}`);
      else if (currency === reporting) {
        if (canonicalRate(rate as string) !== '1')
          problems.push(`rates.${currency} must be 1 (the reporting currency)`);
      } else rates[currency] = canonicalRate(rate as string);
    }
  }
  return problems.length > 0 ? { problems } : { day: { date: body.date as string, rates } };
}

/**
 * FX_RATES_URL's answer `{date, base, rates}` checked whole: its base must be the reporting currency
 * (codes in capitals are read as the same codes), the rest as a PUT's body. Anything else is refused whole, never stored in part.
 */
export function checkFeed(body: unknown, reporting: string): { problems: string[] } | { day: FxDayRates } {
  if (!isObject(body)) return { problems: ['the body must be a JSON object {date, base, rates}'] };
  const base = typeof body.base === 'string' ? body.base.toLowerCase() : body.base;
  if (base !== reporting) {
    return { problems: [`base must be the reporting currency ${reporting} (got ${JSON.stringify(body.base)})`] };
  }
  // Feeds often write codes in capitals (EUR): the same codes.
  const rates = isObject(body.rates)
    ? Object.fromEntries(Object.entries(body.rates).map(([code, rate]) => [code.toLowerCase(), rate]))
    : body.rates;
  return checkDayRates({ date: body.date, rates }, reporting);
}
