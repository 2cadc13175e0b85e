/**
 * A price as text and as an integer scaled by 10^4 (NUMERIC(10,4)), exactly: the lowest step of
 * pricing, which pricing-math.ts (the arithmetic) and dimensions.ts (a rule's unit prices) both read.
 */

export const PRICE_SCALE = 10_000n;
/** A non-negative decimal with at most 4 places that fits NUMERIC(10,4). */
export const PRICE_PATTERN = /^\d{1,6}(\.\d{1,4})?$/;

/** "0.07" → 700n. Throws on anything that is not a valid price. */
export function parsePrice(value: string): bigint {
  const text = value.trim();
  if (!PRICE_PATTERN.test(text)) throw new Error(`not a price: ${value}`);
  const [whole, fraction = ''] = text.split('.');
  return BigInt(whole) * PRICE_SCALE + BigInt(fraction.padEnd(4, '0'));
}

/** 700n → "0.0700" (always 4 places). */
export function formatPrice(scaled: bigint): string {
  return formatScaled(scaled, 4);
}

/** A non-negative integer scaled by 10^places as a decimal string with exactly `places` places. */
export function formatScaled(value: bigint, places: number): string {
  const text = value.toString().padStart(places + 1, '0');
  return `${text.slice(0, -places)}.${text.slice(-places)}`;
}

/** Normalises any accepted price (string or number from pg/JSON) to its 4-place string. */
export function normalisePrice(value: string | number): string {
  return formatPrice(parsePrice(typeof value === 'number' ? String(value) : value));
}
