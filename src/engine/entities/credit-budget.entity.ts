import { Check, Column, Entity, ForeignKey, Index, PrimaryGeneratedColumn, Unique } from 'typeorm';

import { Account } from '../../accounts/entities/account.entity.js';
import { TimestampColumn } from '../../database/timestamp-column.js';

/**
 * A budget by scope (migration 1732001800000, docs/budgets.md): what the writes naming one project,
 * tag, agent run or session of an account may spend in a period, under an optional parent budget of
 * the same account. A cap with its counter on its own row: what it used and held in its period now
 * (`spent`, of the period starting at `spentStart`), read and written by the engine under the
 * account's lock (migration 1732004100000). Its scope's kind, period and limit are checked by the
 * trigger credit_budgets_check (migration 1732004430000: CHECKs cost every UPDATE of the counter),
 * and its pages keep room for the counter's row versions (fillfactor 50).
 */
@Entity({ name: 'credit_budgets' })
// budgetId is the account's own (migration 1732005610000): unique per account, not across them.
@Unique('credit_budgets_account_budget_key', ['accountId', 'budgetId'])
@Unique('credit_budgets_scope_key', ['accountId', 'scopeKind', 'scopeId'])
@Index('credit_budgets_parent_idx', ['parentBudgetId'])
@Check('credit_budgets_spent_check', `spent >= 0`)
export class CreditBudget {
  @PrimaryGeneratedColumn('identity', {
    type: 'bigint',
    generatedIdentity: 'ALWAYS',
    primaryKeyConstraintName: 'credit_budgets_pkey',
  })
  id: string;

  /** The caller's id for it (1–100 of a-z 0-9 _ . : -), the account's own: creation is idempotent by it. */
  @Column({ name: 'budget_id', type: 'varchar', length: 100 })
  budgetId: string;

  @ForeignKey(() => Account, { name: 'credit_budgets_account_id_fkey' })
  @Column({ name: 'account_id', type: 'bigint' })
  accountId: string;

  @Column({ name: 'scope_kind', type: 'varchar', length: 7 })
  scopeKind: 'project' | 'tag' | 'run' | 'session';

  @Column({ name: 'scope_id', type: 'varchar', length: 200 })
  scopeId: string;

  /**
   * The parent: the same account's budget of this id, checked under the account's lock at creation
   * (no foreign key since ids are per account, migration 1732005610000); deleting it leaves this
   * budget without one (CreditBudgetsRepository.delete()).
   */
  @Column({ name: 'parent_budget_id', type: 'varchar', length: 100, nullable: true })
  parentBudgetId: string | null;

  @Column({ name: 'credit_limit', type: 'bigint' })
  creditLimit: string;

  @Column({ type: 'varchar', length: 8, default: 'lifetime' })
  period: 'day' | 'week' | 'month' | 'lifetime';

  /** After it the budget refuses nothing and is listed as expired. */
  @TimestampColumn('expires_at', { nullable: true })
  expiresAt: Date | null;

  /** The period start budget.reached was sent for (once per budget and period). */
  @TimestampColumn('reached_start', { nullable: true })
  reachedStart: Date | null;

  @Column({ name: 'created_by', type: 'varchar', length: 50 })
  createdBy: string;

  @TimestampColumn('created_at', { defaultNow: true })
  createdAt: Date;

  @TimestampColumn('updated_at', { defaultNow: true })
  updatedAt: Date;

  /**
   * Used and held in the period starting at `spentStart` (a budget's period never changes, so only
   * the period now is kept: another period's start reads as 0 spent). Written by the engine only.
   */
  @Column({ type: 'bigint', default: 0 })
  spent: string;

  /** The period `spent` counts (`-infinity` for `lifetime`); null until the budget counts a charge. */
  @TimestampColumn('spent_start', { nullable: true })
  spentStart: Date | null;
}
