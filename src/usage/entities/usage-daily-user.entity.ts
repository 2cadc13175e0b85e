import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * One user's usage on one UTC day (migration 1732000002100): byUser and userCount of the system-wide
 * statistics. Written only by the database function usage_rollup_compact(), which folds the deltas
 * that triggers on usage_records append to usage_rollup_pending (a table without a primary key, so
 * without an entity: see test/schema-drift.e2e-spec.ts).
 */
@Entity({ name: 'usage_daily_users' })
export class UsageDailyUser {
  @PrimaryColumn({ type: 'date', primaryKeyConstraintName: 'usage_daily_users_pkey' })
  day: string;

  @PrimaryColumn({ name: 'user_id', type: 'varchar', length: 50, primaryKeyConstraintName: 'usage_daily_users_pkey' })
  userId: string;

  /** bigint: kept as a string. */
  @Column({ type: 'bigint' })
  records: string;

  @Column({ type: 'bigint' })
  credits: string;
}
