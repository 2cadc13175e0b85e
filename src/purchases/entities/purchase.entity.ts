import { Check, Column, Entity, ForeignKey, Index, PrimaryGeneratedColumn, Unique } from 'typeorm';

import { Account } from '../../accounts/entities/account.entity.js';
import { TimestampColumn } from '../../database/timestamp-column.js';
import type { PurchaseStatus } from '../purchase-status.js';
import { Package } from './package.entity.js';

/**
 * A purchase of credits (migration 1732000034000): its state, and what was taken back from its
 * allocation (`refunded_credits`), made debt (`debt_created`) or frozen by a dispute. The allocation
 * it granted is the one whose `purchase_id` is this id (unique there).
 */
@Entity({ name: 'purchases' })
@Check('purchases_credits_check', `credits >= 1`)
@Check('purchases_amount_check', `amount > 0`)
@Check('purchases_currency_check', `currency ~ '^[a-z]{3}$'`)
@Check('purchases_expiry_days_check', `expiry_days BETWEEN 1 AND 3650`)
@Check(
  'purchases_status_check',
  `status IN
          ('pending_payment', 'paid', 'failed', 'expired', 'partially_refunded', 'refunded', 'disputed', 'charged_back')`,
)
@Check('purchases_owner_check', `(user_id IS NULL) <> (org_id IS NULL)`)
@Check(
  'purchases_taken_check',
  `refunded_credits >= 0 AND debt_created >= 0 AND disputed_credits >= 0
          AND refunded_credits + debt_created <= credits + bonus_credits`,
)
@Check('purchases_bonus_credits_check', `bonus_credits >= 0`)
@Unique('purchases_provider_ref_key', ['provider', 'providerRef'])
@Index('purchases_account_idx', ['accountId', 'createdAt', 'id'])
@Index('purchases_created_idx', ['createdAt', 'id'])
@Index('purchases_payment_key', ['provider', 'providerPaymentId'], {
  unique: true,
  where: 'provider_payment_id IS NOT NULL',
})
// BRIN on created_xid (migration 1732000600000), for the Parquet exports: @Index has no method.
@Index('purchases_created_xid_brin', { synchronize: false })
// The payer ties (migration 1732008000000): the account is its owner's, the user's or the organisation's.
@ForeignKey(() => Account, ['accountId', 'userId'], ['accountId', 'userId'], { name: 'purchases_account_user_fkey' })
@ForeignKey(() => Account, ['accountId', 'orgId'], ['accountId', 'orgId'], { name: 'purchases_account_org_fkey' })
export class Purchase {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'purchases_pkey' })
  id: string;

  @Column({ name: 'account_id', type: 'bigint' })
  accountId: string;

  @Column({ name: 'user_id', type: 'varchar', length: 50, nullable: true })
  userId: string | null;

  @Column({ name: 'org_id', type: 'varchar', length: 50, nullable: true })
  orgId: string | null;

  @Column({ type: 'integer' })
  credits: number;

  @Column({ type: 'numeric', precision: 14, scale: 4 })
  amount: string;

  @Column({ type: 'varchar', length: 3 })
  currency: string;

  @Column({ type: 'varchar', length: 30 })
  provider: string;

  @Column({ name: 'provider_ref', type: 'varchar', length: 255, nullable: true })
  providerRef: string | null;

  @Column({ name: 'provider_payment_id', type: 'varchar', length: 255, nullable: true })
  providerPaymentId: string | null;

  @Column({ name: 'expiry_days', type: 'integer' })
  expiryDays: number;

  @Column({ type: 'varchar', length: 20, default: 'pending_payment' })
  status: PurchaseStatus;

  /** What a dispute returns to when it is won (`paid` or `partially_refunded`). */
  @Column({ name: 'status_before_dispute', type: 'varchar', length: 20, nullable: true })
  statusBeforeDispute: PurchaseStatus | null;

  /** Credits taken back from the purchase's allocation (refunds, chargeback). */
  @Column({ name: 'refunded_credits', type: 'integer', default: 0 })
  refundedCredits: number;

  /** Σ the admin refunds' amounts. */
  @Column({ name: 'refunded_amount', type: 'numeric', precision: 14, scale: 4, default: 0 })
  refundedAmount: string;

  /** The highest cumulative refunded amount the provider reported. */
  @Column({ name: 'provider_refunded_amount', type: 'numeric', precision: 14, scale: 4, default: 0 })
  providerRefundedAmount: string;

  @Column({ name: 'disputed_credits', type: 'integer', default: 0 })
  disputedCredits: number;

  /** Credits already spent when they were taken back: made the account's debt. */
  @Column({ name: 'debt_created', type: 'integer', default: 0 })
  debtCreated: number;

  /** The auto-recharge attempt this purchase pays (no foreign key: that table is another module's). */
  @Column({ name: 'auto_recharge_attempt_id', type: 'uuid', nullable: true })
  autoRechargeAttemptId: string | null;

  /** Why it failed or expired, as the caller said. */
  @Column({ type: 'text', nullable: true })
  reason: string | null;

  @Column({ name: 'created_by', type: 'varchar', length: 50 })
  createdBy: string;

  @TimestampColumn('created_at', { defaultNow: true })
  createdAt: Date;

  @TimestampColumn('paid_at', { nullable: true })
  paidAt: Date | null;

  /** When it failed or expired. */
  @TimestampColumn('closed_at', { nullable: true })
  closedAt: Date | null;

  @TimestampColumn('updated_at', { defaultNow: true })
  updatedAt: Date;

  /** The package bought (migration 1732000047000); null for a purchase priced by the caller. */
  @ForeignKey(() => Package, { name: 'purchases_package_id_fkey' })
  @Column({ name: 'package_id', type: 'varchar', length: 50, nullable: true })
  packageId: string | null;

  /** The package's bonus: granted with `credits`, in the same allocation. */
  @Column({ name: 'bonus_credits', type: 'integer', default: 0 })
  bonusCredits: number;

  /**
   * The transaction that inserted the row (migration 1732000600000): what places it in exactly one
   * Parquet export (docs/exports.md). Null for rows older than the exports.
   */
  @Column({
    name: 'created_xid',
    type: 'bigint',
    nullable: true,
    default: () => 'txid_current()',
  })
  createdXid: string | null;
}
