import { Check, Column, Entity, ForeignKey, PrimaryColumn } from 'typeorm';

import { Account } from '../../accounts/entities/account.entity.js';
import { TimestampColumn } from '../../database/timestamp-column.js';

/**
 * An account's auto-recharge settings (migration 1732000035000, docs/auto-recharge.md). While enabled,
 * `credit_accounts.recharge_below` carries `belowCredits` for the takes; `consecutiveFailures` counts
 * failed attempts since the last success or the last PUT (3 turn auto-recharge off).
 */
@Entity({ name: 'auto_recharge_settings' })
@Check('auto_recharge_settings_below_check', `below_credits >= 0`)
@Check('auto_recharge_settings_recharge_check', `recharge_credits >= 1`)
@Check('auto_recharge_settings_month_check', `max_credits_per_month >= 1`)
@Check('auto_recharge_settings_interval_check', `min_interval_minutes >= 0`)
@Check('auto_recharge_settings_failures_check', `consecutive_failures >= 0`)
export class AutoRechargeSettings {
  @ForeignKey(() => Account, { name: 'auto_recharge_settings_account_id_fkey' })
  @PrimaryColumn({ name: 'account_id', type: 'bigint', primaryKeyConstraintName: 'auto_recharge_settings_pkey' })
  accountId: string;

  @Column({ type: 'boolean' })
  enabled: boolean;

  @Column({ name: 'below_credits', type: 'integer' })
  belowCredits: number;

  @Column({ name: 'recharge_credits', type: 'integer' })
  rechargeCredits: number;

  /** Null: no monthly cap. */
  @Column({ name: 'max_credits_per_month', type: 'integer', nullable: true })
  maxCreditsPerMonth: number | null;

  @Column({ name: 'min_interval_minutes', type: 'integer', default: 60 })
  minIntervalMinutes: number;

  @Column({ name: 'consecutive_failures', type: 'integer', default: 0 })
  consecutiveFailures: number;

  @Column({ name: 'updated_by', type: 'varchar', length: 50 })
  updatedBy: string;

  @TimestampColumn('updated_at', { defaultNow: true })
  updatedAt: Date;
}
