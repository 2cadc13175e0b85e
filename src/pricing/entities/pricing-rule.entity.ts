import { Check, Column, Entity, Exclusion, Index, PrimaryGeneratedColumn } from 'typeorm';

/** A model's price for [effectiveFrom, effectiveTo); rules of one model never overlap (EXCLUDE). */
@Entity({ name: 'pricing_rules' })
@Check('pricing_rules_price_check', `price_per_1k_tokens >= 0`)
@Check('pricing_rules_output_price_check', `output_price_per_1k_tokens >= 0`)
@Check('pricing_rules_provider_cost_check', `provider_cost_per_1k_tokens >= 0`)
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

  @Column({ name: 'price_per_1k_tokens', type: 'numeric', precision: 10, scale: 4 })
  pricePer1kTokens: string;

  @Column({ name: 'output_price_per_1k_tokens', type: 'numeric', precision: 10, scale: 4, nullable: true })
  outputPricePer1kTokens: string | null;

  @Column({ name: 'provider_cost_per_1k_tokens', type: 'numeric', precision: 10, scale: 4, nullable: true })
  providerCostPer1kTokens: string | null;

  @Column({ name: 'effective_from', type: 'timestamptz', default: () => 'now()' })
  effectiveFrom: Date;

  @Column({ name: 'effective_to', type: 'timestamptz', nullable: true })
  effectiveTo: Date | null;

  @Column({ name: 'created_by', type: 'varchar', length: 50 })
  createdBy: string;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt: Date;
}
