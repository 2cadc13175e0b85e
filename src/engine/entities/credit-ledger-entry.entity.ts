import { Column, Entity, ForeignKey, Index, PrimaryGeneratedColumn } from 'typeorm';

import { Account } from '../../accounts/entities/account.entity.js';
import { TimestampColumn } from '../../database/timestamp-column.js';
import type { FinanceCategory, LedgerKind } from '../credit-views.js';
import { CreditAllocation } from './credit-allocation.entity.js';

/**
 * Append-only (a trigger refuses UPDATE and DELETE): one signed movement of one allocation. Its checks
 * (a known kind and category, the sign its kind takes, an allocation unless it is debt, money with its
 * currency) are the trigger credit_ledger_check (migration 1732008207000: CHECKs cost every statement
 * that writes a line).
 */
@Entity({ name: 'credit_ledger' })
// (account_id, id DESC) (migration 1732000024900): @Index has no order.
@Index('credit_ledger_account_idx', { synchronize: false })
// BRIN on created_at (migration 1732000022200), for the summary's time range: @Index has no method.
@Index('credit_ledger_created_brin', { synchronize: false })
// (currency, COALESCE(booked_at, created_at)) INCLUDE (…) WHERE category IS NOT NULL (migration
// 1732000052000): the roll-forward's; @Index has no expressions or INCLUDE.
@Index('credit_ledger_finance_idx', { synchronize: false })
// (currency, created_at) INCLUDE (value_minor, account_id) of freeze and unfreeze lines: the disputed money.
@Index('credit_ledger_frozen_idx', { synchronize: false })
@Index('credit_ledger_allocation_idx', ['allocationId'])
@Index('credit_ledger_session_idx', ['sessionId'], { where: 'session_id IS NOT NULL' })
@Index('credit_ledger_usage_idx', ['usageRecordId'], { where: 'usage_record_id IS NOT NULL' })
// BRIN on created_xid (migration 1732000600000), for the Parquet exports: @Index has no method.
@Index('credit_ledger_created_xid_brin', { synchronize: false })
export class CreditLedgerEntry {
  @PrimaryGeneratedColumn({ type: 'bigint', primaryKeyConstraintName: 'credit_ledger_pkey' })
  id: string;

  /**
   * The person the line is of (migration 1732000070000, was user_id): on an organisation's account the
   * member who spent (null for the organisation's own movements: grants, transfers, expiries); on a
   * user's account its user, every line. The account (account_id) says who paid. No foreign key.
   */
  @Column({ name: 'member_id', type: 'varchar', length: 50, nullable: true })
  memberId: string | null;

  @ForeignKey(() => CreditAllocation, { name: 'credit_ledger_allocation_id_fkey' })
  /** Null only for `overdraft` entries: credits spent beyond the balance, owed as debt. */
  @Column({ name: 'allocation_id', type: 'uuid', nullable: true })
  allocationId: string | null;

  /** 20 characters since migration 1732000033000 (`transfer_out`). */
  @Column({ type: 'varchar', length: 20 })
  kind: LedgerKind;

  @Column({ type: 'integer' })
  amount: number;

  @Column({ name: 'balance_after', type: 'bigint' })
  balanceAfter: string;

  @Column({ name: 'session_id', type: 'varchar', length: 100, nullable: true })
  sessionId: string | null;

  @Column({ name: 'usage_record_id', type: 'uuid', nullable: true })
  usageRecordId: string | null;

  @Column({ name: 'created_by', type: 'varchar', length: 50 })
  createdBy: string;

  @TimestampColumn('created_at', { defaultNow: true })
  createdAt: Date;

  /** The API key the movement was made through (null: a JWT, a job). No foreign key: the ledger outlives keys. */
  @Column({ name: 'api_key_id', type: 'uuid', nullable: true })
  apiKeyId: string | null;

  /** The account the movement is of (migration 1732000024900): the engine's key. */
  @ForeignKey(() => Account, { name: 'credit_ledger_account_id_fkey' })
  @Column({ name: 'account_id', type: 'bigint' })
  accountId: string;

  /** The money the line moved, in the currency's minor units, signed like `amount`; null on a promotional lot (migration 1732000052000). */
  @Column({ name: 'value_minor', type: 'bigint', nullable: true })
  valueMinor: string | null;

  @Column({ type: 'varchar', length: 3, nullable: true })
  currency: string | null;

  /** The finance category (docs/finance.md); null for a movement inside the liability (hold, release, freeze, rollover). */
  @Column({ type: 'varchar', length: 20, nullable: true })
  category: FinanceCategory | null;

  /** When finance books it, when not created_at: an expiry's expires_at (the expiry job's lines). */
  @TimestampColumn('booked_at', { nullable: true })
  bookedAt: Date | null;

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

  /** The usage correction (usage_corrections.id) a `correction` line and its companions belong to. No foreign key. */
  @Column({ name: 'correction_id', type: 'uuid', nullable: true })
  correctionId: string | null;
}
