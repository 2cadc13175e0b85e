/**
 * Exact price arithmetic. Prices are NUMERIC(10,4): they are handled as integers scaled by 10^4
 * (BigInt), so `0.07 × 100,000 tokens` is exactly 7 credits, never 8.
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

export interface TokenCounts {
  inputTokens: number;
  outputTokens: number;
}

function tokenCount(n: number, name: string): bigint {
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer`);
  return BigInt(n);
}

/**
 * credits = ceil((inputTokens × price + outputTokens × outputPrice) / 1000), exactly.
 * Returns a bigint so callers decide what to do with results beyond the integer range.
 */
export function calculateCredits(
  tokens: TokenCounts,
  pricePer1k: string,
  outputPricePer1k: string = pricePer1k,
): bigint {
  const numerator =
    tokenCount(tokens.inputTokens, 'inputTokens') * parsePrice(pricePer1k) +
    tokenCount(tokens.outputTokens, 'outputTokens') * parsePrice(outputPricePer1k);
  const denominator = 1000n * PRICE_SCALE;
  return (numerator + denominator - 1n) / denominator;
}

/** tokens × costPer1k / 1000 as an exact decimal string with 7 places (4 of the price + 3 of /1000). */
export function providerCost(totalTokens: number, costPer1k: string): string {
  return formatScaled(tokenCount(totalTokens, 'tokens') * parsePrice(costPer1k), 7);
}
