import type { PriceSource } from './catalog/catalog-pricing.js';
import type { ServiceTiers, UnitPrices } from './dimensions.js';
import type { VolumeSteps } from './volume-steps.js';

/** What priced a write: an operator's rule, the price catalogue, or the default price. */
export type PriceOrigin = 'rule' | 'catalog' | 'default';

export interface Quote {
  modelId: string;
  credits: number;
  /** The account price applied over the rule (null: none). */
  accountPriceId: string | null;
  /** Its discount, when it is one ("12.50"); the prices below are the rule's, before it. */
  discountPercent: string | null;
  pricePer1kTokens: string;
  outputPricePer1kTokens: string;
  pricingRuleId: string | null;
  providerCost: string | null;
  source: PriceOrigin;
  /** The catalogue entry that priced it (source `catalog`), else null. */
  priceSource: PriceSource | null;
  /** The tier the credits were priced at (a hold of `auto`: the most expensive; null: the base prices). */
  serviceTier: string | null;
  /**
   * The rule's volume steps with the write's exact un-rounded credits (before the steps, a decimal
   * with 15 places): the take steps and rounds them against the period's total; null: no steps.
   */
  volume: { steps: VolumeSteps; exact: string } | null;
}

/** A model's price now (GET /api/pricing/:modelId): each kind's price resolved. */
export interface PriceView {
  modelId: string;
  pricePer1kTokens: string;
  outputPricePer1kTokens: string;
  cacheReadPricePer1kTokens: string;
  cacheWritePricePer1kTokens: string;
  reasoningPricePer1kTokens: string;
  longContextThreshold: number | null;
  longContextPricePer1kTokens: string | null;
  longContextOutputPricePer1kTokens: string | null;
  providerCostPer1kTokens: string | null;
  serviceTiers: ServiceTiers | null;
  unitPrices: UnitPrices | null;
  /** The rule's volume steps, as rule answers carry them; null: none (or the default price). */
  volume: VolumeSteps | null;
  pricingRuleId: string | null;
  source: PriceOrigin;
  priceSource: PriceSource | null;
  effectiveFrom: string | null;
  effectiveTo: string | null;
}
