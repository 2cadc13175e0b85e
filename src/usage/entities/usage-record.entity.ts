import { Column, Entity, PrimaryColumn } from 'typeorm';

/** One metered event (migration 1732000002000). Written with SQL by UsageService; mapped for reference. */
@Entity({ name: 'usage_records' })
export class UsageRecord {
  @PrimaryColumn('uuid')
  id: string;

  @Column({ name: 'user_id', type: 'varchar', length: 50 })
  userId: string;

  @Column({ name: 'timestamp', type: 'timestamptz' })
  timestamp: Date;

  @Column({ type: 'varchar', length: 50 })
  service: string;

  @Column({ type: 'varchar', length: 100 })
  operation: string;

  @Column({ type: 'integer' })
  credits: number;

  @Column({ name: 'model_id', type: 'varchar', length: 100, nullable: true })
  modelId: string | null;

  @Column({ type: 'integer', nullable: true })
  tokens: number | null;

  @Column({ name: 'input_tokens', type: 'integer', nullable: true })
  inputTokens: number | null;

  @Column({ name: 'output_tokens', type: 'integer', nullable: true })
  outputTokens: number | null;

  @Column({ type: 'jsonb', nullable: true })
  metadata: Record<string, unknown> | null;

  @Column({ name: 'pricing_rule_id', type: 'uuid', nullable: true })
  pricingRuleId: string | null;

  /** numeric: kept as a string, never a float. */
  @Column({ name: 'provider_cost', type: 'numeric', precision: 24, scale: 8, nullable: true })
  providerCost: string | null;

  @Column({ name: 'billing_status', type: 'varchar', length: 20 })
  billingStatus: 'billed' | 'needs_review';
}
