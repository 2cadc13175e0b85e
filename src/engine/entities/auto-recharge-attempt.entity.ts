import { Check, Column, Entity, ForeignKey, Index, PrimaryGeneratedColumn } from 'typeorm';

import { Account } from '../../accounts/entities/account.entity.js';
import { TimestampColumn } from '../../database/timestamp-column.js';
import type { AutoRechargeAttemptStatus } from '../credit-views.js';

/**
 * One auto-recharge attempt (migration 1732000035000): opened by a take that left the account below
 * its threshold (auto_recharge_check()), closed by the purchase made for it being paid
 * (auto_recharge_succeed()) or by the platform failing it (auto_recharge_fail()).
 */
@Entity({ name: 'auto_recharge_attempts' })
@Check('auto_recharge_attempts_credits_check', `credits >= 1`)
@Check('auto_recharge_attempts_status_check', `status IN ('open', 'succeeded', 'failed')`)
@Check('auto_recharge_attempts_closed_check', `(status = 'open') = (closed_at IS NULL)`)
@Index('auto_recharge_attempts_open_key', ['accountId'], { unique: true, where: `status = 'open'` })
@Index('auto_recharge_attempts_account_time_idx', ['accountId', 'openedAt'])
export class AutoRechargeAttempt {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'auto_recharge_attempts_pkey' })
  id: string;

  @ForeignKey(() => Account, { name: 'auto_recharge_attempts_account_id_fkey' })
  @Column({ name: 'account_id', type: 'bigint' })
  accountId: string;

  @Column({ type: 'integer' })
  credits: number;

  @Column({ type: 'varchar', length: 10, default: 'open' })
  status: AutoRechargeAttemptStatus;

  @TimestampColumn('opened_at', { defaultNow: true })
  openedAt: Date;

  @TimestampColumn('closed_at', { nullable: true })
  closedAt: Date | null;

  /** Why it failed, as the platform said (fail route). */
  @Column({ type: 'varchar', length: 500, nullable: true })
  reason: string | null;
}
