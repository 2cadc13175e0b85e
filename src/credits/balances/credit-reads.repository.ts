import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager, type QueryRunner } from 'typeorm';

import { cursorTimestampSql } from '../../common/http/pagination.js';
import { type DateRange, rangeSql } from '../../common/validation/date-range.js';
import { queryPrepared } from '../../database/statement-parts.js';
import {
  ALLOCATION_COLUMNS,
  allocationLiveSql,
  type AllocationRow,
  type LedgerRow,
  spendableCreditsSql,
} from '../../engine/credit-sql.js';
import type { CreditSummaryView, LedgerKind, ReconcileCheck, ReconcileMismatch } from '../../engine/credit-views.js';

/**
 * Reconcile's transfer checks (docs/money.md "Transfers"), each row a `transfer_mismatch`: a transfer
 * allocation is exactly its lot (its credits, expiry and accounts), what left an allocation by
 * `transfer_out` entries is what its lots took, and a transfer's lots add up to its credits.
 */
const TRANSFER_PROBLEMS = `
         SELECT 'transfer_mismatch', account_user_id(t.account_id), account_org_id(t.account_id), t.id, COALESCE(MAX(x.credits), 0), t.total_credits
           FROM credit_allocations t
           LEFT JOIN (credit_transfer_lots x JOIN credit_transfers tr ON tr.id = x.transfer_id)
                  ON x.to_allocation_id = t.id AND x.expires_at = t.expires_at AND tr.to_account_id = t.account_id
          WHERE t.source = 'transfer'
          GROUP BY t.id HAVING COUNT(x.transfer_id) <> 1 OR MAX(x.credits) <> t.total_credits
         UNION ALL
         SELECT 'transfer_mismatch', account_user_id(o.account_id), account_org_id(o.account_id), o.id, COALESCE(x.n, 0), COALESCE(l.n, 0)
           FROM credit_allocations o
           LEFT JOIN (SELECT x.from_allocation_id AS id, SUM(x.credits) AS n FROM credit_transfer_lots x
                        JOIN credit_transfers tr ON tr.id = x.transfer_id
                        JOIN credit_allocations f ON f.id = x.from_allocation_id AND f.account_id = tr.from_account_id
                                                 AND f.expires_at = x.expires_at
                       GROUP BY x.from_allocation_id) x ON x.id = o.id
           LEFT JOIN (SELECT allocation_id AS id, -SUM(amount) AS n FROM credit_ledger WHERE kind = 'transfer_out'
                       GROUP BY allocation_id) l ON l.id = o.id
          WHERE (x.id IS NOT NULL OR l.id IS NOT NULL) AND COALESCE(x.n, 0) <> COALESCE(l.n, 0)
         UNION ALL
         SELECT 'transfer_mismatch', NULL, NULL, NULL, tr.credits, COALESCE(SUM(x.credits), 0)
           FROM credit_transfers tr LEFT JOIN credit_transfer_lots x ON x.transfer_id = tr.id
          GROUP BY tr.id HAVING tr.credits <> COALESCE(SUM(x.credits), 0)`;

/** The credit tables' read queries for the routes (balance, lists, reconcile) and for plan grants. */
@Injectable()
export class CreditReadsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * Open allocations and open holds in one statement: one snapshot and one round trip. Prepared
   * (parsed and planned once per connection), like the engine's statements: parsing and planning
   * this text cost PostgreSQL about two thirds of the read (docs/benchmarks.md, "The reads, prepared").
   */
  async balanceRows(
    manager: EntityManager,
    accountId: string | null,
  ): Promise<(Partial<AllocationRow> & { held: string; debt: number; billing_currency: string | null })[]> {
    return queryPrepared(manager, 'balance', {
      sql: `SELECT h.held, COALESCE((SELECT debt FROM credit_accounts WHERE account_id = $1::bigint), 0) AS debt,
              (SELECT billing_currency FROM accounts WHERE account_id = $1::bigint) AS billing_currency, a.id, a.remaining_credits, a.total_credits, a.expires_at, a.allocated_at, a.notes,
              a.source, a.plan_id, a.period_start, a.purchase_id
         FROM (SELECT COALESCE(SUM(outstanding), 0)::bigint AS held FROM credit_holds
                WHERE account_id = $1::bigint AND settled_at IS NULL) h
         LEFT JOIN LATERAL (
           SELECT id, remaining_credits, total_credits, expires_at, allocated_at, notes, source, plan_id, period_start, purchase_id
             FROM credit_allocations
            WHERE account_id = $1::bigint AND ${allocationLiveSql('expires_at')} AND remaining_credits > 0) a ON true
        ORDER BY a.expires_at, a.allocated_at, a.id`,
      params: [accountId],
    });
  }

  /**
   * What the user could spend now: the available balance plus what the overdraft still covers
   * (what a record of that many credits would pass, key budget and spend rate aside). Prepared, as
   * the balance read is.
   */
  async spendable(manager: EntityManager, accountId: string | null): Promise<number> {
    const rows = await queryPrepared<{ n: string }>(manager, 'spendable', {
      sql: `SELECT ${spendableCreditsSql('$1::bigint')} AS n`,
      params: [accountId],
    });
    return Number(rows[0].n);
  }

  /** Allocations newest first; the cursor keeps microseconds (a JS Date would skip rows across pages). */
  async allocations(query: {
    accountId: string | null;
    includeExpired: boolean;
    after: { t: string; id: string } | null;
    limit: number;
  }): Promise<(AllocationRow & { cursor_t: string })[]> {
    const params: unknown[] = [query.accountId];
    const where = ['account_id = $1::bigint'];
    if (!query.includeExpired) where.push(allocationLiveSql('expires_at'));
    if (query.after) {
      params.push(query.after.t, query.after.id);
      where.push(`(allocated_at, id) < ($2::timestamptz, $3::uuid)`);
    }
    params.push(query.limit + 1);
    return this.dataSource.query(
      `SELECT ${ALLOCATION_COLUMNS}, ${cursorTimestampSql('allocated_at')} AS cursor_t FROM credit_allocations
        WHERE ${where.join(' AND ')}
        ORDER BY allocated_at DESC, id DESC LIMIT $${params.length}`,
      params,
    );
  }

  /** Ledger entries newest first (id order is insertion order). */
  async ledger(query: {
    accountId: string | null;
    kind?: LedgerKind;
    range: DateRange;
    allocationId?: string;
    afterId: string | null;
    limit: number;
  }): Promise<LedgerRow[]> {
    const params: unknown[] = [query.accountId];
    const where = ['account_id = $1::bigint', ...rangeSql(query.range, 'created_at', params)];
    if (query.kind !== undefined) {
      params.push(query.kind);
      where.push(`kind = $${params.length}`);
    }
    if (query.allocationId !== undefined) {
      params.push(query.allocationId);
      where.push(`allocation_id = $${params.length}::uuid`);
    }
    if (query.afterId !== null) {
      params.push(query.afterId);
      where.push(`id < $${params.length}::bigint`);
    }
    params.push(query.limit + 1);
    return this.dataSource.query(
      `SELECT id, member_id AS user_id, account_org_id(account_id) AS org_id, allocation_id, kind, amount, balance_after, session_id,
              usage_record_id, correction_id, api_key_id, created_by, created_at, value_minor, currency
         FROM credit_ledger WHERE ${where.join(' AND ')} ORDER BY id DESC LIMIT $${params.length}`,
      params,
    );
  }

  /**
   * The liability summary at `now` (docs/operators.md): what is available, held, owed
   * and expiring within 7 days, and per UTC day of the 30 ending with `now`'s day the credits granted,
   * spent (debits, holds net of releases, overdraft), expired and voided, from the ledger.
   */
  async summary(now: Date): Promise<CreditSummaryView> {
    const [totals]: {
      available: string;
      held: string;
      debt: string;
      expiring: string;
    }[] = await this.dataSource.query(
      `SELECT (SELECT COALESCE(SUM(remaining_credits), 0) FROM credit_allocations WHERE expires_at > $1)::bigint AS available,
              (SELECT COALESCE(SUM(remaining_credits), 0) FROM credit_allocations
                WHERE expires_at > $1 AND expires_at <= $1::timestamptz + interval '7 days')::bigint AS expiring,
              (SELECT COALESCE(SUM(outstanding), 0) FROM credit_holds WHERE settled_at IS NULL)::bigint AS held,
              (SELECT COALESCE(SUM(debt), 0) FROM credit_accounts)::bigint AS debt`,
      [now],
    );
    const days: { date: string; granted: string; spent: string; expired: string; voided: string }[] =
      await this.dataSource.query(
        `WITH bounds AS (
           SELECT ($1::timestamptz AT TIME ZONE 'UTC')::date - 29 AS first_day, ($1::timestamptz AT TIME ZONE 'UTC')::date AS last_day
         ), moved AS (
           SELECT (l.created_at AT TIME ZONE 'UTC')::date AS day,
                  SUM(l.amount) FILTER (WHERE l.kind = 'grant') AS granted,
                  -SUM(l.amount) FILTER (WHERE l.kind IN ('debit', 'hold', 'release', 'overdraft')) AS spent,
                  -SUM(l.amount) FILTER (WHERE l.kind = 'expire') AS expired,
                  -SUM(l.amount) FILTER (WHERE l.kind = 'void') AS voided
             FROM credit_ledger l
            -- Bounds written on $1 itself (not joined from bounds) so the BRIN index on created_at applies.
            WHERE l.created_at >= ((($1::timestamptz AT TIME ZONE 'UTC')::date - 29)::timestamp AT TIME ZONE 'UTC')
              AND l.created_at < ((($1::timestamptz AT TIME ZONE 'UTC')::date + 1)::timestamp AT TIME ZONE 'UTC')
            GROUP BY 1)
         SELECT to_char(d.day, 'YYYY-MM-DD') AS date, COALESCE(m.granted, 0)::bigint AS granted,
                COALESCE(m.spent, 0)::bigint AS spent, COALESCE(m.expired, 0)::bigint AS expired,
                COALESCE(m.voided, 0)::bigint AS voided
           FROM bounds b
           CROSS JOIN LATERAL generate_series(b.first_day, b.last_day, interval '1 day') AS g(t)
           CROSS JOIN LATERAL (SELECT g.t::date AS day) d
           LEFT JOIN moved m ON m.day = d.day
          ORDER BY d.day`,
        [now],
      );
    return {
      available: Number(totals.available),
      held: Number(totals.held),
      debt: Number(totals.debt),
      expiringWithin7Days: Number(totals.expiring),
      byDay: days.map((d) => ({
        date: d.date,
        granted: Number(d.granted),
        spent: Number(d.spent),
        expired: Number(d.expired),
        voided: Number(d.voided),
      })),
    };
  }

  /**
   * Invariant 2 (docs/invariants.md) per allocation (remaining = total + Σ non-grant entries, exactly one grant of
   * +total, remaining never negative) and every unsettled hold equal to what its hold/release entries
   * still hold, in ONE REPEATABLE READ snapshot so concurrent writers never show as false mismatches;
   * `checks` (of the modules above credits, handed down by reconcile's caller) run in it too.
   */
  async reconcile(checks: ReconcileCheck[]): Promise<{ checkedAllocations: number; mismatches: ReconcileMismatch[] }> {
    const runner = this.dataSource.createQueryRunner();
    await runner.connect();
    try {
      await runner.startTransaction('REPEATABLE READ');
      const result = await this.reconcileIn(runner);
      for (const check of checks) result.mismatches.push(...(await check(runner.manager)));
      await runner.commitTransaction();
      return result;
    } catch (error) {
      if (runner.isTransactionActive) await runner.rollbackTransaction();
      throw error;
    } finally {
      await runner.release();
    }
  }

  private async reconcileIn(
    runner: QueryRunner,
  ): Promise<{ checkedAllocations: number; mismatches: ReconcileMismatch[] }> {
    const [{ n }]: { n: string }[] = await runner.query(`SELECT count(*)::bigint AS n FROM credit_allocations`);
    const allocationProblems: {
      problem: ReconcileMismatch['problem'];
      user_id: string | null;
      org_id: string | null;
      allocation_id: string;
      expected: string;
      actual: string;
    }[] = await runner.query(
      // An allocation's funding entry is its `grant`, for a transfer's lot its `transfer_in`, for a
      // volume step's give-back its `volume_adjustment`.
      `WITH sums AS (
           SELECT a.id, account_user_id(a.account_id) AS user_id, account_org_id(a.account_id) AS org_id, a.total_credits, a.remaining_credits,
                  COALESCE(SUM(l.amount) FILTER (WHERE l.kind <> f.kind), 0) AS moved,
                  COALESCE(SUM(l.amount) FILTER (WHERE l.kind = f.kind), 0) AS granted,
                  COUNT(l.id) FILTER (WHERE l.kind = f.kind) AS grants
             FROM credit_allocations a
            CROSS JOIN LATERAL (SELECT CASE a.source WHEN 'transfer' THEN 'transfer_in' WHEN 'volume' THEN 'volume_adjustment' ELSE 'grant' END AS kind) f
             LEFT JOIN credit_ledger l ON l.allocation_id = a.id
            GROUP BY a.id, f.kind)
         SELECT 'remaining_mismatch' AS problem, user_id, org_id, id AS allocation_id,
                (total_credits + moved)::bigint AS expected, remaining_credits::bigint AS actual
           FROM sums WHERE remaining_credits <> total_credits + moved
         UNION ALL
         SELECT 'negative_remaining', user_id, org_id, id, 0, remaining_credits FROM sums WHERE remaining_credits < 0
         UNION ALL
         SELECT 'grant_mismatch', user_id, org_id, id, total_credits, granted FROM sums WHERE grants <> 1 OR granted <> total_credits
         UNION ALL
         -- a rollover allocation holds exactly what its rollover entries took from the period before
         -- (whose plan allocations end where the rollover's period starts: the same subscription's at a
         -- renewal, the plan's it replaced at a change), and no entry lacks one
         SELECT 'rollover_mismatch', account_user_id(r.account_id), account_org_id(r.account_id), r.id, -COALESCE(SUM(l.amount), 0), r.total_credits
           FROM credit_allocations r
           LEFT JOIN credit_allocations o
                  ON o.account_id = r.account_id AND o.source = 'plan' AND o.expires_at = r.period_start
           LEFT JOIN credit_ledger l ON l.allocation_id = o.id AND l.kind = 'rollover'
          WHERE r.source = 'rollover'
          GROUP BY r.id HAVING r.total_credits <> -COALESCE(SUM(l.amount), 0)
         UNION ALL
         SELECT 'rollover_mismatch', account_user_id(o.account_id), account_org_id(o.account_id), o.id, 0, -SUM(l.amount)
           FROM credit_allocations o JOIN credit_ledger l ON l.allocation_id = o.id AND l.kind = 'rollover'
          WHERE NOT EXISTS (SELECT 1 FROM credit_allocations r WHERE r.account_id = o.account_id
                               AND r.source = 'rollover' AND r.period_start = o.expires_at)
          GROUP BY o.id
         UNION ALL
         ${TRANSFER_PROBLEMS}`,
    );
    const debtProblems: { user_id: string | null; org_id: string | null; expected: string; actual: string }[] =
      await runner.query(
        `WITH owed AS (
         SELECT account_id,
                (-COALESCE(SUM(amount) FILTER (WHERE kind IN ('overdraft', 'debt')), 0)
                 + COALESCE(SUM(amount) FILTER (WHERE kind = 'repay'), 0))::bigint AS n
           FROM credit_ledger WHERE kind IN ('overdraft', 'debt', 'repay') GROUP BY account_id)
       SELECT a.user_id, a.org_id, COALESCE(o.n, 0) AS expected, COALESCE(c.debt, 0)::bigint AS actual
         FROM credit_accounts c FULL JOIN owed o ON o.account_id = c.account_id
         JOIN accounts a ON a.account_id = COALESCE(c.account_id, o.account_id)
        WHERE COALESCE(c.debt, 0) <> COALESCE(o.n, 0)`,
      );
    const holdProblems: {
      user_id: string | null;
      org_id: string | null;
      session_id: string;
      expected: string;
      actual: string;
    }[] = await runner.query(
      `SELECT h.session_id, h.member_id AS user_id, account_org_id(h.account_id) AS org_id, h.outstanding::bigint AS actual, (-COALESCE(SUM(l.amount), 0))::bigint AS expected
           FROM credit_holds h
           LEFT JOIN credit_ledger l
                  ON l.session_id = h.session_id AND l.account_id = h.account_id AND l.kind IN ('hold', 'release')
          WHERE h.settled_at IS NULL
          GROUP BY h.session_id, h.account_id
         HAVING h.outstanding <> -COALESCE(SUM(l.amount), 0)`,
    );
    return {
      checkedAllocations: Number(n),
      mismatches: [
        ...allocationProblems.map((r) => ({
          problem: r.problem,
          userId: r.user_id,
          orgId: r.org_id,
          allocationId: r.allocation_id,
          sessionId: null,
          expected: Number(r.expected),
          actual: Number(r.actual),
        })),
        ...debtProblems.map((r) => ({
          problem: 'debt_mismatch' as const,
          userId: r.user_id,
          orgId: r.org_id,
          allocationId: null,
          sessionId: null,
          expected: Number(r.expected),
          actual: Number(r.actual),
        })),
        ...holdProblems.map((r) => ({
          problem: 'hold_mismatch' as const,
          userId: r.user_id,
          orgId: r.org_id,
          allocationId: null,
          sessionId: r.session_id,
          expected: Number(r.expected),
          actual: Number(r.actual),
        })),
      ],
    };
  }
}
