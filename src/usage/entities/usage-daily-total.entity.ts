import { Column, Entity, PrimaryColumn } from 'typeorm';

/** The primary key's constraint name, as the migration names it (TypeORM's own name differs). */
const KEY = { primaryKeyConstraintName: 'usage_daily_totals_pkey' } as const;

/**
 * Usage on one UTC day per service and model key (migration 1732000002100): totals, byService, byDay,
 * byModel and margins of the system-wide statistics. Written only by usage_rollup_compact(), and by
 * an erasure's usage_rollup_forget(), which removes a total left counting nothing under a key that was
 * the erased person's words (docs/erasure.md).
 */
@Entity({ name: 'usage_daily_totals' })
export class UsageDailyTotal {
  @PrimaryColumn({ type: 'date', ...KEY })
  day: string;

  @PrimaryColumn({ type: 'varchar', length: 50, ...KEY })
  service: string;

  /** The record's model, or its operation for chat records without one; '' when neither. */
  @PrimaryColumn({ name: 'model_key', type: 'varchar', length: 100, ...KEY })
  modelKey: string;

  /** bigint: kept as a string. */
  @Column({ type: 'bigint' })
  records: string;

  @Column({ type: 'bigint' })
  credits: string;

  /** Unconstrained numeric (a sum of provider costs): a string, never a float. */
  @Column({ name: 'provider_cost', type: 'numeric', nullable: true })
  providerCost: string | null;

  /** Token counts per kind (tokensByKind); a record without a split counts its tokens as input. */
  @Column({ name: 'input_tokens', type: 'bigint', default: 0 })
  inputTokens: string;

  @Column({ name: 'output_tokens', type: 'bigint', default: 0 })
  outputTokens: string;

  @Column({ name: 'cache_read_tokens', type: 'bigint', default: 0 })
  cacheReadTokens: string;

  @Column({ name: 'cache_write_tokens', type: 'bigint', default: 0 })
  cacheWriteTokens: string;

  @Column({ name: 'reasoning_tokens', type: 'bigint', default: 0 })
  reasoningTokens: string;
}
