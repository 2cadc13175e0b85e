import { fromMinor, minorUnits, toMinor } from '../../common/money/currencies.js';

/**
 * Amounts as Stripe's API writes them: integers in Stripe's smallest unit of the currency, which is
 * not always ISO 4217's (docs/purchases.md "Stripe"). Stripe's zero-decimal currencies count whole
 * units (mga too, which ISO gives 2 places); its three-decimal ones count thousandths, and a charge or
 * refund in them must end in 0 (5.124 kwd cannot be charged: 5.120 or 5.130 can); every other
 * currency counts hundredths (isk too, which ISO gives 0 places: 5 isk is 500).
 */
const ZERO_DECIMAL = new Set('bif clp djf gnf jpy kmf krw mga pyg rwf ugx vnd vuv xaf xof xpf'.split(' '));
const THREE_DECIMAL = new Set('bhd jod kwd omr tnd'.split(' '));

/** The places of Stripe's unit of `currency`: 0, 3 or 2. */
export function stripeDecimals(currency: string): number {
  if (ZERO_DECIMAL.has(currency)) return 0;
  return THREE_DECIMAL.has(currency) ? 3 : 2;
}

/**
 * An amount of ours (a decimal of at most the currency's minor places) as Stripe's integer, or null
 * when Stripe cannot charge it exactly: a fraction its unit lacks (0.50 mga), or a three-decimal
 * amount whose last digit is not 0 (1.005 kwd).
 */
export function toStripeAmount(amount: string, currency: string): number | null {
  const places = minorUnits(currency);
  if (places === undefined) return null;
  const shift = stripeDecimals(currency) - places;
  const minor = toMinor(amount, currency);
  let stripe = minor * 10n ** BigInt(Math.max(shift, 0));
  if (shift < 0) {
    const unit = 10n ** BigInt(-shift);
    if (minor % unit !== 0n) return null;
    stripe = minor / unit;
  }
  if (THREE_DECIMAL.has(currency) && stripe % 10n !== 0n) return null;
  return stripe <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(stripe) : null;
}

/**
 * Stripe's integer amount as a decimal in the currency's minor places (1005 kwd → "1.005", 500 jpy →
 * "500", 500 isk → "5"), exactly; null for a currency ISO 4217 does not list, or an amount with a
 * fraction the currency has no places for (550 isk).
 */
export function fromStripeAmount(stripe: number, currency: string): string | null {
  const places = minorUnits(currency);
  if (places === undefined || !Number.isSafeInteger(stripe)) return null;
  const shift = places - stripeDecimals(currency);
  const n = BigInt(stripe);
  if (shift >= 0) return fromMinor(n * 10n ** BigInt(shift), currency);
  const unit = 10n ** BigInt(-shift);
  return n % unit === 0n ? fromMinor(n / unit, currency) : null;
}
