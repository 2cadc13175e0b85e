import { Check, Column, Entity, Exclusion, Index, PrimaryGeneratedColumn } from 'typeorm';

import { TimestampColumn } from '../../database/timestamp-column.js';
import type { ServiceTiers, UnitPrices } from '../dimensions.js';
import type { VolumeSteps } from '../volume-steps.js';
import { PriceColumn } from './columns.js';

/** A model's price for [effectiveFrom, effectiveTo); rules of one model never overlap (EXCLUDE). */
@Entity({ name: 'pricing_rules' })
@Check('pricing_rules_price_check', `price_per_1k_tokens >= 0`)
@Check('pricing_rules_output_price_check', `output_price_per_1k_tokens >= 0`)
@Check('pricing_rules_provider_cost_check', `provider_cost_per_1k_tokens >= 0`)
@Check('pricing_rules_cache_read_price_per_1k_tokens_check', `cache_read_price_per_1k_tokens >= 0`)
@Check('pricing_rules_cache_write_price_per_1k_tokens_check', `cache_write_price_per_1k_tokens >= 0`)
@Check('pricing_rules_reasoning_price_per_1k_tokens_check', `reasoning_price_per_1k_tokens >= 0`)
@Check('pricing_rules_long_context_price_per_1k_tokens_check', `long_context_price_per_1k_tokens >= 0`)
@Check('pricing_rules_long_context_output_price_per_1k_tokens_check', `long_context_output_price_per_1k_tokens >= 0`)
@Check('pricing_rules_provider_output_cost_per_1k_tokens_check', `provider_output_cost_per_1k_tokens >= 0`)
@Check('pricing_rules_provider_cache_read_cost_per_1k_tokens_check', `provider_cache_read_cost_per_1k_tokens >= 0`)
@Check('pricing_rules_provider_cache_write_cost_per_1k_tokens_check', `provider_cache_write_cost_per_1k_tokens >= 0`)
@Check('pricing_rules_provider_reasoning_cost_per_1k_tokens_check', `provider_reasoning_cost_per_1k_tokens >= 0`)
@Check('pricing_rules_long_context_threshold_check', `long_context_threshold >= 0`)
@Check('pricing_rules_max_output_tokens_check', `max_output_tokens > 0`)
@Check('pricing_rules_context_window_check', `context_window > 0`)
@Check(
  'pricing_rules_long_context_check',
  `(long_context_threshold IS NULL) = (long_context_price_per_1k_tokens IS NULL)
        AND (long_context_threshold IS NULL) = (long_context_output_price_per_1k_tokens IS NULL)`,
)
@Check(
  'pricing_rules_provider_kinds_check',
  `provider_cost_per_1k_tokens IS NOT NULL OR (
        provider_output_cost_per_1k_tokens IS NULL AND provider_cache_read_cost_per_1k_tokens IS NULL
        AND provider_cache_write_cost_per_1k_tokens IS NULL AND provider_reasoning_cost_per_1k_tokens IS NULL)`,
)
@Check('pricing_rules_period_check', `effective_to IS NULL OR effective_to > effective_from`)
@Exclusion(
  'pricing_rules_no_overlap',
  `USING gist (model_id WITH =, tstzrange(effective_from, effective_to, '[)') WITH &&)`,
)
// (model_id, effective_from DESC): a descending key TypeORM cannot describe; the migration keeps it,
// test/schema-drift.e2e-spec.ts checks it.
@Index('pricing_rules_model_idx', { synchronize: false })
export class PricingRule {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'pricing_rules_pkey' })
  id: string;

  @Column({ name: 'model_id', type: 'varchar', length: 100 })
  modelId: string;

  @PriceColumn('price_per_1k_tokens', { nullable: false })
  pricePer1kTokens: string;

  @PriceColumn('output_price_per_1k_tokens')
  outputPricePer1kTokens: string | null;

  /** The provider's cost of input tokens (and of every kind without its own). */
  @PriceColumn('provider_cost_per_1k_tokens')
  providerCostPer1kTokens: string | null;

  @TimestampColumn('effective_from', { defaultNow: true })
  effectiveFrom: Date;

  @TimestampColumn('effective_to', { nullable: true })
  effectiveTo: Date | null;

  @Column({ name: 'created_by', type: 'varchar', length: 50 })
  createdBy: string;

  @TimestampColumn('created_at', { defaultNow: true })
  createdAt: Date;

  // Token kinds (migration 1732000021000), in the order it added them.
  /** null: pricePer1kTokens. */
  @PriceColumn('cache_read_price_per_1k_tokens')
  cacheReadPricePer1kTokens: string | null;

  /** null: pricePer1kTokens. */
  @PriceColumn('cache_write_price_per_1k_tokens')
  cacheWritePricePer1kTokens: string | null;

  /** null: the output price. */
  @PriceColumn('reasoning_price_per_1k_tokens')
  reasoningPricePer1kTokens: string | null;

  @PriceColumn('long_context_price_per_1k_tokens')
  longContextPricePer1kTokens: string | null;

  @PriceColumn('long_context_output_price_per_1k_tokens')
  longContextOutputPricePer1kTokens: string | null;

  @PriceColumn('provider_output_cost_per_1k_tokens')
  providerOutputCostPer1kTokens: string | null;

  @PriceColumn('provider_cache_read_cost_per_1k_tokens')
  providerCacheReadCostPer1kTokens: string | null;

  @PriceColumn('provider_cache_write_cost_per_1k_tokens')
  providerCacheWriteCostPer1kTokens: string | null;

  @PriceColumn('provider_reasoning_cost_per_1k_tokens')
  providerReasoningCostPer1kTokens: string | null;

  /** Prompt tokens (input + cache read + cache write) above which input and output cost the tier's prices. */
  @Column({ name: 'long_context_threshold', type: 'integer', nullable: true })
  longContextThreshold: number | null;

  // Pricing dimensions (migration 1732000400000): data of the rule, priced by pricing-math.ts.
  /** `{"<tier>": {"pricePercent": "50.00"}}`: every price of the rule at that tier × pricePercent / 100. */
  @Column({ name: 'service_tiers', type: 'jsonb', nullable: true })
  serviceTiers: ServiceTiers | null;

  /** `{"<unit>": "10.0000"}`: credits per unit (a web search, an image). */
  @Column({ name: 'unit_prices', type: 'jsonb', nullable: true })
  unitPrices: UnitPrices | null;

  /** The gateway's output bound for a request of the model that names none (null: GATEWAY_MAX_OUTPUT_TOKENS). */
  @Column({ name: 'max_output_tokens', type: 'integer', nullable: true })
  maxOutputTokens: number | null;

  /** Volume steps (migration 1732001850000, docs/pricing.md "Volume steps"); null: none. */
  @Column({ type: 'jsonb', nullable: true })
  volume: VolumeSteps | null;

  /** The model's context window: the gateway's input bound for input the body does not contain (null: none known). */
  @Column({ name: 'context_window', type: 'integer', nullable: true })
  contextWindow: number | null;
}
