import type { CatalogConfig } from '../../config/pricing-config.js';
import type { PricingRuleView } from '../pricing-rules.js';
import { perCostField, perPriceField } from '../token-kinds.js';
import type { CatalogIndex, CatalogPrice } from './catalog-index.js';
import { catalogPriceOf } from './catalog-kinds.js';

/** Where a write's price came from when the catalogue priced it: the record's `priceSource`. */
export interface PriceSource {
  /** The catalogue's version (the `@pydantic/genai-prices` version the price was stored from). */
  catalog: string;
  /** The catalogue's model id that matched. */
  model: string;
}

/**
 * A catalogue price as the rule it stands in for: its id is the stored catalogue price's (what a
 * streaming session settles at, `pricing_prices`), its prices credits per 1k tokens; no provider
 * cost, tier, unit or volume step (an operator rule adds those).
 */
export function catalogRuleView(modelId: string, price: CatalogPrice): PricingRuleView {
  const { row } = price;
  return {
    id: row.id,
    modelId,
    ...perPriceField((kind) => catalogPriceOf(row, kind)),
    pricePer1kTokens: row.input,
    longContextThreshold: row.longContext?.threshold ?? null,
    longContextPricePer1kTokens: row.longContext?.input ?? null,
    longContextOutputPricePer1kTokens: row.longContext?.output ?? null,
    ...perCostField(() => null),
    providerCost: null,
    serviceTiers: null,
    unitPrices: null,
    volume: null,
    maxOutputTokens: null,
    contextWindow: row.contextWindow,
    effectiveFrom: new Date(price.from).toISOString(),
    effectiveTo: Number.isFinite(price.to) ? new Date(price.to).toISOString() : null,
    createdBy: 'catalog',
    createdAt: new Date(price.set.from).toISOString(),
  };
}

/** The providers to try for a model: the upstream's own first (when it prices at all), then the configured order. */
export function providerOrder(configured: readonly string[], first?: string | null): readonly string[] {
  if (!first || !configured.includes(first) || configured[0] === first) return configured;
  return [first, ...configured.filter((p) => p !== first)];
}

/** The catalogue's price of a model at `t` (null: the catalogue is off or prices no such model then). */
export function catalogPrice(
  index: CatalogIndex,
  config: CatalogConfig,
  modelId: string,
  t: number,
  provider: string | null = null,
): CatalogPrice | null {
  return config.enabled ? index.priceAt(modelId, t, providerOrder(config.providers, provider)) : null;
}
