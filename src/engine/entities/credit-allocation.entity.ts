import { Column, Entity, ForeignKey, Index, PrimaryGeneratedColumn, Unique } from 'typeorm';

import { Account } from '../../accounts/entities/account.entity.js';
import { TimestampColumn } from '../../database/timestamp-column.js';
import type { AllocationSource } from '../credit-views.js';

/**
 * An expiring grant of credits; `remainingCredits` only ever moves together with a ledger entry.
 * The table has fillfactor 85 (migration 1732000006000, for HOT updates), which no entity option sets.
 * Its checks (at least one credit, what is left within it, a known source with the plan or purchase
 * it names, a promotional allocation without money and a valued one never with more left than it was
 * worth) are the trigger credit_allocations_check (migration 1732008207000: CHECKs cost every take's
 * update of what is left).
 */
@Entity({ name: 'credit_allocations' })
@Index('credit_allocations_account_expiry_idx', ['accountId', 'expiresAt'])
@Index('credit_allocations_expiry_due_idx', ['expiresAt'], { where: 'NOT expiry_done' })
@Index('credit_allocations_expiring_idx', ['expiresAt'], { where: 'NOT expiring_notified' })
// A user's signup credits exist at most once, whatever the code does (migration 1732000047000).
@Index('credit_allocations_signup_idx', ['accountId'], { unique: true, where: "source = 'signup'" })
// One allocation per purchase, whatever the code does (migration 1732000034000).
@Unique('credit_allocations_purchase_id_key', ['purchaseId'])
// A period's grant and its rollover exist at most once (migration 1732000008000).
@Index('credit_allocations_period_idx', ['subscriptionId', 'periodStart', 'source'], {
  unique: true,
  where: 'subscription_id IS NOT NULL',
})
// BRIN on created_xid (migration 1732000600000), for the Parquet exports: @Index has no method.
@Index('credit_allocations_created_xid_brin', { synchronize: false })
export class CreditAllocation {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'credit_allocations_pkey' })
  id: string;

  @Column({ name: 'total_credits', type: 'integer' })
  totalCredits: number;

  @Column({ name: 'remaining_credits', type: 'integer' })
  remainingCredits: number;

  @Column({ name: 'allocated_by', type: 'varchar', length: 50 })
  allocatedBy: string;

  @TimestampColumn('allocated_at', { defaultNow: true })
  allocatedAt: Date;

  @TimestampColumn('expires_at')
  expiresAt: Date;

  @Column({ type: 'text', nullable: true })
  notes: string | null;

  @TimestampColumn('voided_at', { nullable: true })
  voidedAt: Date | null;

  @Column({ name: 'voided_by', type: 'varchar', length: 50, nullable: true })
  voidedBy: string | null;

  @Column({ name: 'void_reason', type: 'text', nullable: true })
  voidReason: string | null;

  /** Set by the expiry job once it has processed this expired allocation (migration 1732000006000). */
  @Column({ name: 'expiry_done', type: 'boolean', default: false })
  expiryDone: boolean;

  @Column({ type: 'varchar', length: 10, default: 'manual' })
  source: AllocationSource;

  // By entity name, not class: credits must not import the plans module (which imports credits).
  @ForeignKey('Plan', { name: 'credit_allocations_plan_id_fkey' })
  @Column({ name: 'plan_id', type: 'varchar', length: 50, nullable: true })
  planId: string | null;

  @ForeignKey('Subscription', { name: 'credit_allocations_subscription_id_fkey' })
  @Column({ name: 'subscription_id', type: 'uuid', nullable: true })
  subscriptionId: string | null;

  @TimestampColumn('period_start', { nullable: true })
  periodStart: Date | null;

  /** Set once the credits.expiring notice job has considered it at its shortest lead time (migrations 1732000010500, 1732000046000). */
  @Column({ name: 'expiring_notified', type: 'boolean', default: false })
  expiringNotified: boolean;

  /** The account it belongs to (migration 1732000024900): the engine's key, and its only owner (accounts). */
  @ForeignKey(() => Account, { name: 'credit_allocations_account_id_fkey' })
  @Column({ name: 'account_id', type: 'bigint' })
  accountId: string;

  /** The purchase it was granted for (migration 1732000034000); unique. By entity name: credits does not import purchases. */
  @ForeignKey('Purchase', { name: 'credit_allocations_purchase_id_fkey' })
  @Column({ name: 'purchase_id', type: 'uuid', nullable: true })
  purchaseId: string | null;

  /** A purchase's lot under dispute: credits a session gives back to it are frozen as they arrive. */
  @Column({ type: 'boolean', default: false })
  frozen: boolean;

  /** The shortest credits.expiring lead time (hours) it has been considered at; null: none yet (migration 1732000046000). */
  @Column({ name: 'expiring_notice_hours', type: 'integer', nullable: true })
  expiringNoticeHours: number | null;

  /** What its credits were worth when allocated, in the currency's minor units; null: promotional (migration 1732000052000). */
  @Column({ name: 'value_minor', type: 'bigint', nullable: true })
  valueMinor: string | null;

  /** The money of its credits left (credit_ledger_write() keeps it with remaining_credits). */
  @Column({ name: 'value_remaining_minor', type: 'bigint', nullable: true })
  valueRemainingMinor: string | null;

  @Column({ type: 'varchar', length: 3, nullable: true })
  currency: string | null;

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
