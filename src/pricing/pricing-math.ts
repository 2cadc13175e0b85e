/**
 * Exact price arithmetic. Prices are NUMERIC(16,10): they are handled as integers scaled by 10^10
 * (BigInt), so `0.07 × 100,000 tokens` is exactly 7 credits, never 8.
 */
import {
  BASE_PERCENT,
  type Dimensions,
  isBaseTier,
  NO_DIMENSIONS,
  percentHundredths,
  type ServiceTiers,
  type UnitPrices,
  unknownServiceTier,
  unpricedUnit,
} from './dimensions.js';
import { formatScaled, parsePrice, PRICE_SCALE, trimPlaces } from './price-text.js';
import { perKind, PROMPT_KINDS, sumOf, TOKEN_KINDS, tokenField, type TokenKind } from './token-kinds.js';

export {
  formatPrice,
  formatScaled,
  normalisePrice,
  parsePrice,
  PRICE_PATTERN,
  PRICE_SCALE,
  trimPlaces,
} from './price-text.js';
export { TOKEN_KINDS, type TokenKind } from './token-kinds.js';

/** A count per kind; the prompt is the sum of PROMPT_KINDS. */
export type TokenKinds = Record<TokenKind, number>;
/** A price (or provider cost) per 1,000 tokens of each kind, decimal strings (4 to 10 places). */
export type KindPrices = Record<TokenKind, string>;

/** A rule's prices resolved (defaults applied): each kind's, its long-context tier if any, its service tiers and units. */
export interface RulePrices extends KindPrices {
  /** Above `threshold` prompt tokens, input and output cost the tier's prices (cache, reasoning unchanged). */
  longContext: { threshold: number; input: string; output: string } | null;
  /** The service tiers the rule prices (none: only the base prices). */
  serviceTiers?: ServiceTiers;
  /** Credits per unit of each unit the rule prices (none: no unit). */
  unitPrices?: UnitPrices;
}

/** One price for every kind, no tier, no unit: the default price of a model without a rule. */
export function flatPrices(price: string): RulePrices {
  return { ...perKind(() => price), longContext: null, serviceTiers: {}, unitPrices: {} };
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
  const prompt = sumOf((kind) => tokens[kind], PROMPT_KINDS);
  return tier !== null && prompt > tier.threshold ? { ...prices, input: tier.input, output: tier.output } : prices;
}

/** Σ tokens of each kind × its price (prices scaled by 10^10). */
function weighted(tokens: TokenKinds, prices: KindPrices): bigint {
  let sum = 0n;
  for (const kind of TOKEN_KINDS) sum += tokenCount(tokens[kind], tokenField(kind)) * parsePrice(prices[kind]);
  return sum;
}

/** A factor on every price, scaled by 10^4: `(100 − discountPercent) / 100`; FULL_PRICE is 1. */
export const FULL_PRICE = 10_000n;

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
 * A service tier's factor on every price, in hundredths of a percent (10000n: the base prices); a
 * tier the rule does not price → UNKNOWN_SERVICE_TIER.
 */
export function tierFactor(prices: RulePrices, tier: string | null | undefined, modelId?: string): bigint {
  if (isBaseTier(tier)) return BASE_PERCENT;
  const tiers = prices.serviceTiers ?? {};
  const priced = Object.hasOwn(tiers, tier!) ? tiers[tier!] : undefined;
  if (priced === undefined) throw unknownServiceTier(tier!, modelId);
  return percentHundredths(priced.pricePercent);
}

/** Σ count × unit price (scaled by 10^10); a unit the rule does not price → UNPRICED_UNIT. */
export function unitsWeighted(prices: RulePrices, units: Dimensions['units'], modelId?: string): bigint {
  let sum = 0n;
  for (const [unit, count] of Object.entries(units ?? {})) {
    const priced = prices.unitPrices ?? {};
    const price = Object.hasOwn(priced, unit) ? priced[unit] : undefined;
    if (price === undefined) throw unpricedUnit(unit, modelId);
    sum += tokenCount(count, `units.${unit}`) * parsePrice(price);
  }
  return sum;
}

/** Throws what pricing `dimensions` at `prices` would refuse (an unknown tier, an unpriced unit). */
export function checkDimensions(prices: RulePrices, dimensions: Dimensions, modelId?: string): void {
  tierFactor(prices, dimensions.serviceTier, modelId);
  unitsWeighted(prices, dimensions.units, modelId);
}

/**
 * The one price of a metered write: credits = ceil((Σ tokens of each kind × its price / 1000 +
 * Σ count × unit price) × tier percent / 100 × factor), exactly, one rounding per request (a tier and
 * a discount scale the sum, never each kind apart). Returns a bigint so callers decide what to do with
 * results beyond the integer range.
 */
export function calculateCredits(
  tokens: TokenKinds,
  prices: RulePrices,
  factor: bigint = FULL_PRICE,
  dimensions: Dimensions = NO_DIMENSIONS,
  modelId?: string,
): bigint {
  const numerator = exactCredits(tokens, prices, factor, dimensions, modelId);
  return (numerator + EXACT_SCALE - 1n) / EXACT_SCALE;
}

/** The scale of exactCredits(): 10^21 (the prices' 10^10, per 1,000 tokens, the tier's and the factor's 10^4). */
// (literal: dimensions.ts and this module import each other, so BASE_PERCENT is not yet set at load)
export const EXACT_SCALE = 1000n * PRICE_SCALE * 10_000n * 10_000n;
export const EXACT_PLACES = 21;

/** exactCredits() as a decimal string: at least 15 places, more only where it has them. */
export function formatExact(exact: bigint): string {
  return trimPlaces(formatScaled(exact, EXACT_PLACES), 15);
}

/**
 * calculateCredits() before its rounding, scaled by EXACT_SCALE: what a rule with volume steps hands
 * the take, which steps it and rounds it once for the request (docs/pricing.md "Volume steps").
 */
export function exactCredits(
  tokens: TokenKinds,
  prices: RulePrices,
  factor: bigint = FULL_PRICE,
  dimensions: Dimensions = NO_DIMENSIONS,
  modelId?: string,
): bigint {
  const tier = tierFactor(prices, dimensions.serviceTier, modelId);
  const sum = weighted(tokens, pricesFor(tokens, prices)) + 1000n * unitsWeighted(prices, dimensions.units, modelId);
  return sum * tier * factor;
}

/** Σ tokens of each kind × its cost per 1k / 1000, an exact decimal string with at least 7 places (at most 13). */
export function providerCost(tokens: TokenKinds, costs: KindPrices): string {
  return trimPlaces(formatScaled(weighted(tokens, costs), 13), 7);
}
