import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

import type { BudgetPeriod, ScopeKind } from '../../common/validation/budget-scopes.js';

/** A budget as read, with what it used and held in its period now and the room its chain leaves. */
export interface BudgetRow {
  id: string;
  budget_id: string;
  account_id: string;
  user_id: string | null;
  org_id: string | null;
  scope_kind: ScopeKind;
  scope_id: string;
  parent_budget_id: string | null;
  credit_limit: string;
  period: BudgetPeriod;
  expires_at: Date | null;
  expired: boolean;
  /** Used and held together (its row's counter, when it counts the period now). */
  spent: string;
  held: string;
  /** The least of credit_limit − spent over its chain (null: the budget expired and has no live parent). */
  room: string | null;
  period_start: Date | null;
  resets_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

/**
 * A budget's columns and its state now: its spend in the period (its row's counter), the part of it
 * open holds keep (their credit_holds rows name the budget and the period they counted in), and its
 * chain's least room (credit_budget_caps(), the engine's own walk, from the budget's own scope).
 */
const BUDGET_SELECT = `SELECT b.id, b.budget_id, b.account_id, a.user_id, a.org_id, b.scope_kind, b.scope_id,
       b.parent_budget_id, b.credit_limit, b.period, b.expires_at, (b.expires_at IS NOT NULL AND b.expires_at <= now()) AS expired,
       CASE WHEN b.spent_start = credit_key_period_start(b.period, now()) THEN b.spent ELSE 0 END AS spent,
       COALESCE(hd.held, 0) AS held,
       (SELECT min(c.out_limit[x.k] - c.out_spent[x.k])
          FROM credit_budget_caps(ARRAY[b.account_id],
                                  ARRAY[jsonb_build_object(b.scope_kind, CASE WHEN b.scope_kind = 'tag' THEN jsonb_build_array(b.scope_id)
                                                                              ELSE to_jsonb(b.scope_id) END)]) c
         CROSS JOIN LATERAL unnest(c.out_caps) AS x(k)) AS room,
       NULLIF(credit_key_period_start(b.period, now()), '-infinity') AS period_start,
       credit_key_period_end(b.period, now()) AS resets_at, b.created_at, b.updated_at
  FROM credit_budgets b
  JOIN accounts a ON a.account_id = b.account_id
  LEFT JOIN LATERAL (SELECT sum(h.outstanding) AS held
                       FROM credit_holds h CROSS JOIN LATERAL unnest(h.budget_ids, h.budget_starts) AS x(id, start)
                      WHERE h.account_id = b.account_id AND h.settled_at IS NULL AND x.id = b.id
                        AND x.start = credit_key_period_start(b.period, now())) hd ON true`;

/** What a new budget is. */
export interface NewBudget {
  budgetId: string;
  accountId: string;
  scopeKind: ScopeKind;
  scopeId: string;
  parentBudgetId: string | null;
  limit: number;
  period: BudgetPeriod;
  expiresAt: Date | null;
  createdBy: string;
}

/** credit_budgets: budgets by scope (docs/budgets.md); their spend counters are the engine's. */
@Injectable()
export class CreditBudgetsRepository {
  /** The account's budget of that id (ids are per account). */
  async find(m: EntityManager, accountId: string, budgetId: string): Promise<BudgetRow | null> {
    const rows: BudgetRow[] = await m.query(`${BUDGET_SELECT} WHERE b.account_id = $1 AND b.budget_id = $2`, [
      accountId,
      budgetId,
    ]);
    return rows[0] ?? null;
  }

  /** Every account's budget of that id (at most 2 read: staff naming no account need exactly one). */
  async findAnywhere(m: EntityManager, budgetId: string): Promise<BudgetRow[]> {
    return m.query(`${BUDGET_SELECT} WHERE b.budget_id = $1 ORDER BY b.account_id LIMIT 2`, [budgetId]);
  }

  /** An account's budgets by budgetId, after `after` (keyset), at most `limit`. */
  async list(
    m: EntityManager,
    accountId: string,
    filter: { kind: ScopeKind | null; after: string | null },
    limit: number,
  ): Promise<BudgetRow[]> {
    return m.query(
      `${BUDGET_SELECT}
        WHERE b.account_id = $1 AND ($2::varchar IS NULL OR b.scope_kind = $2) AND ($3::varchar IS NULL OR b.budget_id > $3)
        ORDER BY b.budget_id LIMIT $4`,
      [accountId, filter.kind, filter.after, limit],
    );
  }

  /** How many budgets the chain from the account's `budgetId` up holds (itself included; 0: no such budget). */
  async chainLength(m: EntityManager, accountId: string, budgetId: string): Promise<number> {
    const rows: { n: number }[] = await m.query(
      `WITH RECURSIVE up AS (
         SELECT b.budget_id, b.parent_budget_id, 1 AS n FROM credit_budgets b WHERE b.account_id = $1 AND b.budget_id = $2
         UNION ALL
         SELECT p.budget_id, p.parent_budget_id, up.n + 1 FROM up
           JOIN credit_budgets p ON p.account_id = $1 AND p.budget_id = up.parent_budget_id
          WHERE up.n < 10)
       SELECT COALESCE(max(n), 0)::int AS n FROM up`,
      [accountId, budgetId],
    );
    return rows[0].n;
  }

  /** Inserts it; false when its budgetId or its scope is taken on the account (nothing written). */
  async insert(m: EntityManager, b: NewBudget): Promise<boolean> {
    const rows: unknown[] = await m.query(
      `INSERT INTO credit_budgets (budget_id, account_id, scope_kind, scope_id, parent_budget_id, credit_limit, period,
                                   expires_at, created_by)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
       ON CONFLICT DO NOTHING RETURNING 1`,
      [b.budgetId, b.accountId, b.scopeKind, b.scopeId, b.parentBudgetId, b.limit, b.period, b.expiresAt, b.createdBy],
    );
    return rows.length > 0;
  }

  /** The budget of a scope of the account (its budgetId), if any. */
  async findScope(m: EntityManager, accountId: string, kind: ScopeKind, id: string): Promise<string | null> {
    const rows: { budget_id: string }[] = await m.query(
      `SELECT budget_id FROM credit_budgets WHERE account_id = $1 AND scope_kind = $2 AND scope_id = $3`,
      [accountId, kind, id],
    );
    return rows[0]?.budget_id ?? null;
  }

  /** A new limit or expiry; what it used is its counter's and never reset. */
  async update(m: EntityManager, id: string, change: { limit?: number; expiresAt?: Date | null }): Promise<void> {
    await m.query(
      `UPDATE credit_budgets SET credit_limit = COALESCE($2, credit_limit),
              expires_at = CASE WHEN $3 THEN $4::timestamptz ELSE expires_at END, updated_at = now()
        WHERE id = $1`,
      [id, change.limit ?? null, change.expiresAt !== undefined, change.expiresAt ?? null],
    );
  }

  /** Deletes it, its counter with it; its children (the same account's) keep no parent. */
  async delete(m: EntityManager, budget: Pick<BudgetRow, 'id' | 'account_id' | 'budget_id'>): Promise<void> {
    await m.query(
      `WITH gone AS (DELETE FROM credit_budgets WHERE id = $1)
       UPDATE credit_budgets SET parent_budget_id = NULL, updated_at = now()
        WHERE account_id = $2 AND parent_budget_id = $3`,
      [budget.id, budget.account_id, budget.budget_id],
    );
  }
}
