import { Column, Entity, PrimaryColumn } from 'typeorm';

/** A model's price for [effectiveFrom, effectiveTo); rules of one model never overlap (EXCLUDE). */
@Entity({ name: 'pricing_rules' })
export class PricingRule {
  @PrimaryColumn({ type: 'uuid' })
  id: string;

  @Column({ name: 'model_id', type: 'varchar', length: 100 })
  modelId: string;

  @Column({ name: 'price_per_1k_tokens', type: 'numeric', precision: 10, scale: 4 })
  pricePer1kTokens: string;

  @Column({ name: 'output_price_per_1k_tokens', type: 'numeric', precision: 10, scale: 4, nullable: true })
  outputPricePer1kTokens: string | null;

  @Column({ name: 'provider_cost_per_1k_tokens', type: 'numeric', precision: 10, scale: 4, nullable: true })
  providerCostPer1kTokens: string | null;

  @Column({ name: 'effective_from', type: 'timestamptz' })
  effectiveFrom: Date;

  @Column({ name: 'effective_to', type: 'timestamptz', nullable: true })
  effectiveTo: Date | null;

  @Column({ name: 'created_by', type: 'varchar', length: 50 })
  createdBy: string;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
