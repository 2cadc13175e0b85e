import { Check, Column, Entity, ForeignKey, Index, PrimaryColumn } from 'typeorm';

import { Account } from '../../accounts/entities/account.entity.js';
import { TimestampColumn } from '../../database/timestamp-column.js';

/**
 * An account's money settings and state beyond the allocations (migration 1732000009000); no row means
 * every default. `spendWindow` holds 60 per-minute buckets (slot = minute mod 60) of the credits
 * spent in the trailing hour, `spendMinute` the minute of the newest one.
 */
@Entity({ name: 'credit_accounts' })
@Check('credit_accounts_debt_check', `debt >= 0`)
@Check('credit_accounts_overdraft_check', `overdraft_limit >= 0`)
@Check('credit_accounts_rate_check', `max_credits_per_hour >= 1`)
@Index('credit_accounts_debt_idx', ['accountId'], { where: 'debt > 0' })
export class CreditAccount {
  @Column({ type: 'integer', default: 0 })
  debt: number;

  @Column({ name: 'overdraft_limit', type: 'integer', default: 0 })
  overdraftLimit: number;

  /** Null: SPEND_RATE_LIMIT_PER_HOUR applies. */
  @Column({ name: 'max_credits_per_hour', type: 'integer', nullable: true })
  maxCreditsPerHour: number | null;

  /** Null: LOW_BALANCE_THRESHOLDS apply. */
  @Column({ name: 'low_balance_thresholds', type: 'integer', array: true, nullable: true })
  lowBalanceThresholds: number[] | null;

  @Column({ name: 'spend_minute', type: 'bigint', default: 0 })
  spendMinute: string;

  @Column({ name: 'spend_window', type: 'integer', array: true, default: () => 'array_fill(0, ARRAY[60])' })
  spendWindow: number[];

  @TimestampColumn('updated_at', { defaultNow: true })
  updatedAt: Date;

  /**
   * The balance alerts armed: thresholds at or below it (null: all). Lowered to the balance by a
   * crossing, raised to it by a grant (src/engine/sql/credit_balance_alerts.sql). Last: added by
   * migration 1732000018100.
   */
  @Column({ name: 'alerts_armed_up_to', type: 'bigint', nullable: true })
  alertsArmedUpTo: string | null;

  /** The account (migration 1732000024900): the key. */
  @ForeignKey(() => Account, { name: 'credit_accounts_account_id_fkey' })
  @PrimaryColumn({ name: 'account_id', type: 'bigint', primaryKeyConstraintName: 'credit_accounts_pkey' })
  accountId: string;

  /**
   * The auto-recharge threshold while auto-recharge is enabled, else null (migration 1732000035000):
   * what a take reads to decide whether to call auto_recharge_check(), so an account without
   * auto-recharge pays nothing for it.
   */
  @Column({ name: 'recharge_below', type: 'integer', nullable: true })
  rechargeBelow: number | null;
}
