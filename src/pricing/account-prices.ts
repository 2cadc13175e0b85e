/**
 * Prices and model lists by account, as pure rules (docs/pricing.md "Account prices",
 * "Model entitlements"): which pattern names a model, which account price is in force, and the prices
 * a write is billed at once an account price applies over the model's rule. The live price, the quote
 * and the simulation all go through these (the simulation through their SQL twin, pricing.sql.ts).
 */
import type { UnitPrices } from './dimensions.js';
import type { AccountPrice } from './entities/account-price.entity.js';
import { discountFactor, FULL_PRICE, normalisePrice, type RulePrices } from './pricing-math.js';
import { unitPricesOf } from './pricing-rules.js';
import type { TokenKind } from './token-kinds.js';

/** Whether `pattern` names `modelId`: the same id, or a prefix of it ending in `*`. */
export function modelMatches(pattern: string, modelId: string): boolean {
  return pattern.endsWith('*') ? modelId.startsWith(pattern.slice(0, -1)) : pattern === modelId;
}

/** A model list in force: null allows every model. */
export type ModelList = readonly string[] | null | undefined;

/**
 * Whether every list in force allows the model (a list allows what one of its patterns names). A write
 * naming no model (`null`: credits given outright) passes only lists of every model (`*`): else it would
 * pass every list, whatever model it was.
 */
export function entitled(modelId: string | null, lists: readonly ModelList[]): boolean {
  const allows = (p: string) => (modelId === null ? p === '*' : modelMatches(p, modelId));
  return lists.every((list) => list === null || list === undefined || list.some(allows));
}

/** The per-kind prices an account price replaces (null: the rule's). */
export type AccountKindPrices = Record<TokenKind, string | null>;

/** An account price as answered and cached: prices as 4- to 10-place strings, times ISO-8601. */
export interface AccountPriceView {
  id: string;
  userId: string | null;
  orgId: string | null;
  modelId: string;
  /** "12.50"; null when the price gives per-kind prices. */
  discountPercent: string | null;
  pricePer1kTokens: string | null;
  outputPricePer1kTokens: string | null;
  cacheReadPricePer1kTokens: string | null;
  cacheWritePricePer1kTokens: string | null;
  reasoningPricePer1kTokens: string | null;
  longContextThreshold: number | null;
  longContextPricePer1kTokens: string | null;
  longContextOutputPricePer1kTokens: string | null;
  /** Unit prices that replace the rule's (null: the rule's). */
  unitPrices?: UnitPrices | null;
  effectiveFrom: string;
  effectiveTo: string | null;
  notes: string | null;
  createdBy: string;
  createdAt: string;
}

const price = (value: string | null): string | null => (value === null ? null : normalisePrice(value));

export function toAccountPriceView(row: AccountPrice): AccountPriceView {
  return {
    id: row.id,
    userId: row.userId,
    orgId: row.orgId,
    modelId: row.modelId,
    // numeric(5,2) arrives from pg as its exact 2-place text.
    discountPercent: row.discountPercent,
    pricePer1kTokens: price(row.pricePer1kTokens),
    outputPricePer1kTokens: price(row.outputPricePer1kTokens),
    cacheReadPricePer1kTokens: price(row.cacheReadPricePer1kTokens),
    cacheWritePricePer1kTokens: price(row.cacheWritePricePer1kTokens),
    reasoningPricePer1kTokens: price(row.reasoningPricePer1kTokens),
    longContextThreshold: row.longContextThreshold,
    longContextPricePer1kTokens: price(row.longContextPricePer1kTokens),
    longContextOutputPricePer1kTokens: price(row.longContextOutputPricePer1kTokens),
    unitPrices: unitPricesOf(row.unitPrices),
    effectiveFrom: row.effectiveFrom.toISOString(),
    effectiveTo: row.effectiveTo?.toISOString() ?? null,
    notes: row.notes,
    createdBy: row.createdBy,
    createdAt: row.createdAt.toISOString(),
  };
}

/** An account price as the cache keeps it: times as epoch ms. */
export interface CachedAccountPrice {
  view: AccountPriceView;
  from: number;
  to: number;
}

/**
 * The account price in force for a model at `t`: an exact model id wins over a prefix, a longer
 * prefix over a shorter one (one account's prices of one pattern never overlap in time).
 */
export function accountPriceAt(
  prices: readonly CachedAccountPrice[] | undefined,
  modelId: string,
  t: number,
): AccountPriceView | null {
  let best: AccountPriceView | null = null;
  for (const { view, from, to } of prices ?? []) {
    if (from > t || t >= to || !modelMatches(view.modelId, modelId)) continue;
    if (best === null || rank(view.modelId) > rank(best.modelId)) best = view;
  }
  return best;
}

/** Exact ids above every prefix; prefixes by length. */
const rank = (pattern: string) => (pattern.endsWith('*') ? pattern.length - 1 : Number.MAX_SAFE_INTEGER);

/**
 * The prices a write is billed at: the rule's, with an account price's per-kind prices replacing the
 * kinds it gives (its long-context tier the rule's, its unit prices the rule's of those units), or the rule's scaled by its discount — as a
 * factor on the sum, so the credits are still rounded up once (pricing-math.ts calculateCredits).
 */
export function applyAccountPrice(
  prices: RulePrices,
  accountPrice: AccountPriceView | null,
): { prices: RulePrices; factor: bigint } {
  if (accountPrice === null) return { prices, factor: FULL_PRICE };
  if (accountPrice.discountPercent !== null) return { prices, factor: discountFactor(accountPrice.discountPercent) };
  const a = accountPrice;
  return {
    prices: {
      input: a.pricePer1kTokens ?? prices.input,
      output: a.outputPricePer1kTokens ?? prices.output,
      cacheRead: a.cacheReadPricePer1kTokens ?? prices.cacheRead,
      cacheWrite: a.cacheWritePricePer1kTokens ?? prices.cacheWrite,
      reasoning: a.reasoningPricePer1kTokens ?? prices.reasoning,
      longContext:
        a.longContextThreshold === null
          ? prices.longContext
          : {
              threshold: a.longContextThreshold,
              input: a.longContextPricePer1kTokens!,
              output: a.longContextOutputPricePer1kTokens!,
            },
      serviceTiers: prices.serviceTiers,
      unitPrices: { ...prices.unitPrices, ...a.unitPrices },
    },
    factor: FULL_PRICE,
  };
}
