import { minorUnits, type MoneyLimits } from '../engine/currencies.js';

/**
 * A purchase's money, exactly (docs/purchases.md): amounts are decimal strings of at most 2 places,
 * handled as BigInt cents; no floating point anywhere.
 */

/** A decimal amount: digits, at most 2 places ("10", "10.5", "10.00"). */
export const AMOUNT_PATTERN = /^\d{1,10}(\.\d{1,2})?$/;

/**
 * Where a purchase's or a package's money is stored (numeric(12,2)): beyond the one money rule
 * (moneyProblem()), at most 2 places and 10 whole digits.
 */
export const PURCHASE_MONEY: MoneyLimits = { places: 2, digits: 10 };

/** "10.5" → 1050n. The caller has checked AMOUNT_PATTERN. */
export function toCents(amount: string): bigint {
  const [whole, fraction = ''] = amount.split('.');
  return BigInt(whole) * 100n + BigInt(fraction.padEnd(2, '0'));
}

/** 1050n → "10.50". */
export function fromCents(cents: bigint): string {
  const whole = cents / 100n;
  const fraction = (cents % 100n).toString().padStart(2, '0');
  return `${whole}.${fraction}`;
}

/** The share of `amount` that `credits` of a purchase of `total` credits are worth, rounded down to the cent. */
export function shareOfAmount(credits: number, total: number, amount: string): string {
  return fromCents((BigInt(credits) * toCents(amount)) / BigInt(total));
}

/**
 * Money in the currency's minor units (docs/finance.md) as a purchase amount of 2 places: a
 * zero-place currency's units become whole amounts, a three-place one's are cut to the cent.
 */
export function amountOfMinor(minor: bigint, currency: string): string {
  const places = BigInt(minorUnits(currency) ?? 2);
  return fromCents(places <= 2n ? minor * 10n ** (2n - places) : minor / 10n ** (places - 2n));
}

/** The share of a lot's money left `valueMinor` that `credits` of its `remaining` take (credit_value_share()). */
export function shareOfValue(valueMinor: bigint, credits: number, remaining: number): bigint {
  if (credits >= remaining) return valueMinor;
  return (valueMinor * BigInt(credits)) / BigInt(remaining);
}

/** The credits a cumulative refund of `refunded` out of `amount` takes back: ceil(total × refunded / amount). */
export function creditsForRefund(total: number, refunded: string, amount: string): number {
  const a = toCents(amount);
  return Number((BigInt(total) * toCents(refunded) + a - 1n) / a);
}

/**
 * Stripe's integer amounts in the currency's smallest unit as a decimal of 2 places: most currencies
 * have 2 decimals; Stripe's zero-decimal ones count whole units; its three-decimal ones thousandths
 * (rounded down to the cent, which Stripe's own rule of multiples of 10 makes exact for refunds).
 */
const ZERO_DECIMAL = new Set([
  'bif',
  'clp',
  'djf',
  'gnf',
  'jpy',
  'kmf',
  'krw',
  'mga',
  'pyg',
  'rwf',
  'ugx',
  'vnd',
  'vuv',
  'xaf',
  'xof',
  'xpf',
]);
const THREE_DECIMAL = new Set(['bhd', 'jod', 'kwd', 'omr', 'tnd']);

export function fromMinorUnits(minor: number, currency: string): string {
  const n = BigInt(minor);
  if (ZERO_DECIMAL.has(currency)) return fromCents(n * 100n);
  if (THREE_DECIMAL.has(currency)) return fromCents(n / 10n);
  return fromCents(n);
}
