import { Check, Column, Entity, ForeignKey, PrimaryColumn } from 'typeorm';

import { Account } from '../../accounts/entities/account.entity.js';
import { TimestampColumn } from '../../database/timestamp-column.js';

/**
 * An account's volume period total for a model (migration 1732001850000, docs/pricing.md "Volume
 * steps"): the tokens metered in the period, their un-stepped exact cost and the credits its records
 * were charged (`cost`, whole credits net of give-backs and corrections; migration 1732006500000).
 * Written only by the take, under the account's lock (credit_volume_charges()).
 */
@Entity({ name: 'credit_volume_totals' })
@Check('credit_volume_totals_tokens_check', `tokens >= 0 AND base >= 0 AND cost >= 0`)
export class CreditVolumeTotal {
  @ForeignKey(() => Account, { name: 'credit_volume_totals_account_id_fkey' })
  @PrimaryColumn({ name: 'account_id', type: 'bigint', primaryKeyConstraintName: 'credit_volume_totals_pkey' })
  accountId: string;

  @PrimaryColumn({
    name: 'model_id',
    type: 'varchar',
    length: 100,
    primaryKeyConstraintName: 'credit_volume_totals_pkey',
  })
  modelId: string;

  @PrimaryColumn({ name: 'period_start', type: 'timestamptz', primaryKeyConstraintName: 'credit_volume_totals_pkey' })
  periodStart: Date;

  @Column({ name: 'period_end', type: 'timestamptz' })
  periodEnd: Date;

  @Column({ type: 'bigint' })
  tokens: string;

  @Column({ type: 'numeric' })
  base: string;

  @Column({ type: 'numeric' })
  cost: string;

  @TimestampColumn('updated_at', { defaultNow: true })
  updatedAt: Date;

  /**
   * On a `volume` rule: the money the period's charges took of valued lots, net of what its give-backs
   * returned, in `currency` (the first valued lot's that paid; migration 1732002200000).
   */
  @Column({ name: 'value_minor', type: 'bigint', default: 0 })
  valueMinor: string;

  @Column({ type: 'varchar', length: 3, nullable: true })
  currency: string | null;
}
