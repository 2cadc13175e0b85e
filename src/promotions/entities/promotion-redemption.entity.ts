import { Check, Column, Entity, ForeignKey, Index, PrimaryGeneratedColumn, Unique } from 'typeorm';

import { Account } from '../../accounts/entities/account.entity.js';
import { TimestampColumn } from '../../database/timestamp-column.js';
import { Promotion } from './promotion.entity.js';

/**
 * One redemption of a code by an account (migration 1732000047000) and the allocation it granted.
 * `seq` is the account's nth redemption of the code: unique, so two redemptions made with the same
 * count in hand cannot both be written.
 */
@Entity({ name: 'promotion_redemptions' })
@Check('promotion_redemptions_seq_check', `seq >= 1`)
@Check('promotion_redemptions_owner_check', `(user_id IS NULL) <> (org_id IS NULL)`)
@Unique('promotion_redemptions_seq_key', ['code', 'accountId', 'seq'])
@Index('promotion_redemptions_code_idx', ['code', 'createdAt', 'id'])
// The payer ties (migration 1732008000000): the account is its owner's, the user's or the organisation's.
@ForeignKey(() => Account, ['accountId', 'userId'], ['accountId', 'userId'], {
  name: 'promotion_redemptions_account_user_fkey',
})
@ForeignKey(() => Account, ['accountId', 'orgId'], ['accountId', 'orgId'], {
  name: 'promotion_redemptions_account_org_fkey',
})
export class PromotionRedemption {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'promotion_redemptions_pkey' })
  id: string;

  @ForeignKey(() => Promotion, { name: 'promotion_redemptions_code_fkey' })
  @Column({ type: 'varchar', length: 40 })
  code: string;

  @Column({ name: 'account_id', type: 'bigint' })
  accountId: string;

  @Column({ name: 'user_id', type: 'varchar', length: 50, nullable: true })
  userId: string | null;

  @Column({ name: 'org_id', type: 'varchar', length: 50, nullable: true })
  orgId: string | null;

  @Column({ type: 'integer' })
  seq: number;

  @ForeignKey('CreditAllocation', { name: 'promotion_redemptions_allocation_id_fkey' })
  @Column({ name: 'allocation_id', type: 'uuid' })
  allocationId: string;

  @Column({ type: 'integer' })
  credits: number;

  @TimestampColumn('expires_at')
  expiresAt: Date;

  @Column({ name: 'redeemed_by', type: 'varchar', length: 50 })
  redeemedBy: string;

  @TimestampColumn('created_at', { defaultNow: true })
  createdAt: Date;
}
