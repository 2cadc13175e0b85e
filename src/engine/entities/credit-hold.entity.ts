import { Check, Column, Entity, ForeignKey, Index, PrimaryColumn } from 'typeorm';

import { Account } from '../../accounts/entities/account.entity.js';
import { UserAccount } from '../../accounts/entities/user-account.entity.js';
import { TimestampColumn } from '../../database/timestamp-column.js';

/** What a streaming session still holds; the per-allocation split lives in the ledger. */
@Entity({ name: 'credit_holds' })
// Every count at least 0 (NULL passes): one check for all, read at each write (migration 1732004900000).
@Check('credit_holds_counts_check', `LEAST(outstanding, taken_back) >= 0`)
@Index('credit_holds_account_idx', ['accountId'], { where: 'settled_at IS NULL' })
// The settlements of a period: when a hold's used credits are recognized (migration 1732000052000).
@Index('credit_holds_settled_idx', ['settledAt'], { where: 'settled_at IS NOT NULL' })
// The holds naming scopes, by account: an erasure rewrites them (migration 1732006000000).
@Index('credit_holds_scoped_idx', ['accountId'], { where: 'scopes IS NOT NULL' })
export class CreditHold {
  @PrimaryColumn({ name: 'session_id', type: 'varchar', length: 100, primaryKeyConstraintName: 'credit_holds_pkey' })
  sessionId: string;

  /**
   * Whose session it is (migration 1732000070000): an organisation's member, a user account's user;
   * null only for a settlement with no hold on an organisation's account whose member is unknown.
   */
  @ForeignKey(() => UserAccount, { name: 'credit_holds_member_id_fkey' })
  @Column({ name: 'member_id', type: 'varchar', length: 50, nullable: true })
  memberId: string | null;

  @Column({ type: 'integer' })
  outstanding: number;

  @TimestampColumn('created_at', { defaultNow: true })
  createdAt: Date;

  @TimestampColumn('settled_at', { nullable: true })
  settledAt: Date | null;

  /** The budgeted API key the hold counted against, and that key's period then. */
  @Column({ name: 'api_key_id', type: 'uuid', nullable: true })
  apiKeyId: string | null;

  @TimestampColumn('key_period_start', { nullable: true })
  keyPeriodStart: Date | null;

  /** The account that holds (migration 1732000024900): session ids are unique per account. */
  @ForeignKey(() => Account, { name: 'credit_holds_account_id_fkey' })
  @PrimaryColumn({ name: 'account_id', type: 'bigint', primaryKeyConstraintName: 'credit_holds_pkey' })
  accountId: string;

  /** What a refund or a lost dispute took back from this hold (docs/purchases.md "Taking credits back"). */
  @Column({ name: 'taken_back', type: 'integer', default: 0 })
  takenBack: number;

  /** The budget scopes the hold named (null: none): its settlement's overrun names them too. */
  @Column({ type: 'jsonb', nullable: true })
  scopes: object | null;

  /** The budgets (credit_budgets.id) the hold counted against, and the period start of each then. */
  @Column({ name: 'budget_ids', type: 'bigint', array: true, nullable: true })
  budgetIds: string[] | null;

  @Column({ name: 'budget_starts', type: 'timestamptz', array: true, nullable: true })
  budgetStarts: Date[] | null;
}
