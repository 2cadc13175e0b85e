import { Check, Column, Entity, Index, PrimaryGeneratedColumn, Unique } from 'typeorm';

import { TimestampColumn } from '../../database/timestamp-column.js';
import { PriceColumn } from './columns.js';

/**
 * A catalogue version at the conversion the service started with, in force from `effectiveFrom`
 * (the first set: from -infinity) until the next set's (docs/pricing.md "The price catalogue").
 */
@Entity({ name: 'price_catalog_sets' })
@Unique('price_catalog_sets_effective_from_key', ['effectiveFrom'])
@Check('price_catalog_sets_credits_check', `credits_per_usd > 0`)
@Check('price_catalog_sets_markup_check', `markup_percent >= 0`)
export class PriceCatalogSet {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'price_catalog_sets_pkey' })
  id: string;

  @Column({ type: 'varchar', length: 50 })
  version: string;

  @Column({ name: 'credits_per_usd', type: 'integer' })
  creditsPerUsd: number;

  @Column({ name: 'markup_percent', type: 'numeric', precision: 7, scale: 2 })
  markupPercent: string;

  @TimestampColumn('effective_from')
  effectiveFrom: Date;

  @TimestampColumn('created_at', { defaultNow: true })
  createdAt: Date;
}

/** One catalogue model's credit prices per 1k tokens in a set, for [validFrom, validTo) (the catalogue's start dates). */
@Entity({ name: 'price_catalog_prices' })
@Index('price_catalog_prices_set_idx', ['setId', 'provider', 'position'])
@Check('price_catalog_prices_period_check', `valid_to IS NULL OR valid_to > valid_from`)
@Check(
  'price_catalog_prices_long_context_check',
  `(long_context_threshold IS NULL) = (long_context_price_per_1k_tokens IS NULL)
          AND (long_context_threshold IS NULL) = (long_context_output_price_per_1k_tokens IS NULL)`,
)
export class PriceCatalogPrice {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'price_catalog_prices_pkey' })
  id: string;

  @Column({ name: 'set_id', type: 'uuid' })
  setId: string;

  @Column({ type: 'varchar', length: 50 })
  provider: string;

  @Column({ name: 'catalog_model', type: 'varchar', length: 200 })
  catalogModel: string;

  @Column({ type: 'varchar', length: 200, nullable: true })
  name: string | null;

  /** The entry's place in its provider's list: the first entry whose match accepts a model prices it. */
  @Column({ type: 'integer' })
  position: number;

  /** The catalogue's matching rule (equals, starts_with, ends_with, contains, regex, and, or). */
  @Column({ type: 'jsonb' })
  match: unknown;

  @Column({ name: 'context_window', type: 'integer', nullable: true })
  contextWindow: number | null;

  @TimestampColumn('valid_from')
  validFrom: Date;

  @TimestampColumn('valid_to', { nullable: true })
  validTo: Date | null;

  @PriceColumn('price_per_1k_tokens', { nullable: false })
  pricePer1kTokens: string;

  @PriceColumn('output_price_per_1k_tokens', { nullable: false })
  outputPricePer1kTokens: string;

  @PriceColumn('cache_read_price_per_1k_tokens')
  cacheReadPricePer1kTokens: string | null;

  @PriceColumn('cache_write_price_per_1k_tokens')
  cacheWritePricePer1kTokens: string | null;

  @Column({ name: 'long_context_threshold', type: 'integer', nullable: true })
  longContextThreshold: number | null;

  @PriceColumn('long_context_price_per_1k_tokens')
  longContextPricePer1kTokens: string | null;

  @PriceColumn('long_context_output_price_per_1k_tokens')
  longContextOutputPricePer1kTokens: string | null;
}
