/**
 * Exact price arithmetic. Prices are NUMERIC(10,4): they are handled as integers scaled by 10^4
 * (BigInt), so `0.07 × 100,000 tokens` is exactly 7 credits, never 8.
 */
import { perKind, TOKEN_KINDS, tokenField, type TokenKind } from './token-kinds.js';

export { TOKEN_KINDS, type TokenKind } from './token-kinds.js';

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

/** A count per kind; the prompt is input + cacheRead + cacheWrite. */
export type TokenKinds = Record<TokenKind, number>;
/** A price (or provider cost) per 1,000 tokens of each kind, 4-place decimal strings. */
export type KindPrices = Record<TokenKind, string>;

/** A rule's prices resolved (defaults applied): each kind's, and its long-context tier if any. */
export interface RulePrices extends KindPrices {
  /** Above `threshold` prompt tokens, input and output cost the tier's prices (cache, reasoning unchanged). */
  longContext: { threshold: number; input: string; output: string } | null;
}

/** One price for every kind, no tier: the default price of a model without a rule. */
export function flatPrices(price: string): RulePrices {
  return { ...perKind(() => price), longContext: null };
}

/** Only input and output counted: a single count (all input) or the old split. */
export function kindsOf(input: number, output = 0): TokenKinds {
  return { ...perKind(() => 0), input, output };
}

function tokenCount(n: number, name: string): bigint {
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer`);
  return BigInt(n);
}

/** The prices the tokens are billed at: the long-context tier's input/output when the prompt exceeds it. */
export function pricesFor(tokens: TokenKinds, prices: RulePrices): KindPrices {
  const tier = prices.longContext;
  const prompt = tokens.input + tokens.cacheRead + tokens.cacheWrite;
  return tier !== null && prompt > tier.threshold ? { ...prices, input: tier.input, output: tier.output } : prices;
}

/** Σ tokens of each kind × its price (prices scaled by 10^4). */
function weighted(tokens: TokenKinds, prices: KindPrices): bigint {
  let sum = 0n;
  for (const kind of TOKEN_KINDS) sum += tokenCount(tokens[kind], tokenField(kind)) * parsePrice(prices[kind]);
  return sum;
}

/** A factor on every price, scaled by 10^4: `(100 − discountPercent) / 100`; FULL_PRICE is 1. */
export const FULL_PRICE = PRICE_SCALE;

/** "12.5" (a discount percent, at most 2 places) → 8750n: the factor `(100 − 12.5) / 100` scaled by 10^4. */
export function discountFactor(discountPercent: string): bigint {
  const text = discountPercent.trim();
  if (!/^\d{1,3}(\.\d{1,2})?$/.test(text)) throw new Error(`not a percent: ${discountPercent}`);
  const [whole, fraction = ''] = text.split('.');
  const hundredths = BigInt(whole) * 100n + BigInt(fraction.padEnd(2, '0'));
  if (hundredths > 10_000n) throw new Error(`not a percent: ${discountPercent}`);
  return 10_000n - hundredths;
}

/**
 * credits = ceil(Σ tokens of each kind × its price × factor / 1000), exactly, one rounding per
 * request (a discount scales the sum, never each kind apart). Returns a bigint so callers decide
 * what to do with results beyond the integer range.
 */
export function calculateCredits(tokens: TokenKinds, prices: RulePrices, factor: bigint = FULL_PRICE): bigint {
  const numerator = weighted(tokens, pricesFor(tokens, prices)) * factor;
  const denominator = 1000n * PRICE_SCALE * FULL_PRICE;
  return (numerator + denominator - 1n) / denominator;
}

/** Σ tokens of each kind × its cost per 1k / 1000, an exact decimal string with 7 places (4 + 3). */
export function providerCost(tokens: TokenKinds, costs: KindPrices): string {
  return formatScaled(weighted(tokens, costs), 7);
}
