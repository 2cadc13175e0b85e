import { fromMinor, minorUnits, type MoneyLimits, toMinor } from '../common/money/currencies.js';

/**
 * A purchase's money, exactly (docs/purchases.md): amounts are decimal strings of at most their
 * currency's minor places (jpy 0, usd 2, kwd 3), handled as BigInt minor units; no floating point.
 */

/**
 * A decimal amount before its currency is known (a provider's refunded amount names none): at most
 * 10 whole digits and 4 places, the most any currency has; its purchase's currency then bounds the
 * places (placesFit()).
 */
export const AMOUNT_PATTERN = /^\d{1,10}(\.\d{1,4})?$/;

/**
 * Where a purchase's or a package's money is stored (numeric(14,4)): beyond the one money rule
 * (moneyProblem(): the currency's own places), at most 10 whole digits.
 */
export const PURCHASE_MONEY: MoneyLimits = { digits: 10 };

/** Whether `amount` (AMOUNT_PATTERN) has at most `currency`'s minor places: "0.502" kwd yes, "0.5" jpy no. */
export function placesFit(amount: string, currency: string): boolean {
  return (amount.split('.')[1] ?? '').length <= (minorUnits(currency) ?? 2);
}

/** A stored amount ("1.0050", numeric(14,4)) as the API shows it: in its currency's places ("1.005"). */
export function amountIn(amount: string, currency: string): string {
  return fromMinor(toMinor(amount, currency), currency);
}

/** The share of `amount` that `credits` of a purchase of `total` credits are worth, rounded down to the minor unit. */
export function shareOfAmount(credits: number, total: number, amount: string, currency: string): string {
  return fromMinor((BigInt(credits) * toMinor(amount, currency)) / BigInt(total), currency);
}

/** The share of a lot's money left `valueMinor` that `credits` of its `remaining` take (credit_value_share()). */
export function shareOfValue(valueMinor: bigint, credits: number, remaining: number): bigint {
  if (credits >= remaining) return valueMinor;
  return (valueMinor * BigInt(credits)) / BigInt(remaining);
}

/** The credits a cumulative refund of `refunded` out of `amount` takes back: ceil(total × refunded / amount). */
export function creditsForRefund(total: number, refunded: string, amount: string, currency: string): number {
  const a = toMinor(amount, currency);
  return Number((BigInt(total) * toMinor(refunded, currency) + a - 1n) / a);
}
