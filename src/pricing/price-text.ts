/**
 * A price as text and as an integer scaled by 10^10 (NUMERIC(16,10)), exactly: the lowest step of
 * pricing, which pricing-math.ts (the arithmetic) and dimensions.ts (a rule's unit prices) both read.
 * Ten places hold a catalogue price scaled to credits exactly ($0.075 per million tokens is 0.000075
 * credits per 1k at 1 credit a dollar); an operator's prices mostly need four, and read so.
 */

export const PRICE_PLACES = 10;
export const PRICE_SCALE = 10n ** BigInt(PRICE_PLACES);
/** A non-negative decimal with at most 10 places that fits NUMERIC(16,10). */
export const PRICE_PATTERN = /^\d{1,6}(\.\d{1,10})?$/;

/** "0.07" → 700000000n. Throws on anything that is not a valid price. */
export function parsePrice(value: string): bigint {
  const text = value.trim();
  if (!PRICE_PATTERN.test(text)) throw new Error(`not a price: ${value}`);
  const [whole, fraction = ''] = text.split('.');
  return BigInt(whole) * PRICE_SCALE + BigInt(fraction.padEnd(PRICE_PLACES, '0'));
}

/** 700000000n → "0.0700": at least 4 places, more only where the price has them (at most 10). */
export function formatPrice(scaled: bigint): string {
  return trimPlaces(formatScaled(scaled, PRICE_PLACES), 4);
}

/** A non-negative integer scaled by 10^places as a decimal string with exactly `places` places. */
export function formatScaled(value: bigint, places: number): string {
  const text = value.toString().padStart(places + 1, '0');
  return `${text.slice(0, -places)}.${text.slice(-places)}`;
}

/** A decimal string without the trailing zeros beyond its first `keep` places ("1.230000", 4 → "1.2300"). */
export function trimPlaces(text: string, keep: number): string {
  const dot = text.indexOf('.');
  if (dot < 0) return text;
  let end = text.length;
  while (end > dot + 1 + keep && text[end - 1] === '0') end--;
  return text.slice(0, end);
}

/** Normalises any accepted price (string or number from pg/JSON) to its text: at least 4 places, at most 10. */
export function normalisePrice(value: string | number): string {
  return formatPrice(parsePrice(typeof value === 'number' ? String(value) : value));
}
