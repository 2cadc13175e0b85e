import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';

import { queryParts } from '../database/statement-parts.js';
import type { AllocationView, GrantInput, LedgerEntryView, LedgerKind, LedgerRefs, TakePart } from './credit-views.js';
import type { AllocationSource } from './entities/credit-allocation.entity.js';

/**
 * Every SQL statement that reads or writes the credit tables (credit_allocations, credit_ledger,
 * credit_holds) and the `credits_take()` function, with their row mappers. Only the credits module
 * uses it; the rules live in CreditsService (docs/money.md).
 */
export interface AllocationRow {
  id: string;
  user_id: string;
  total_credits: number;
  remaining_credits: number;
  allocated_by: string;
  allocated_at: Date;
  expires_at: Date;
  notes: string | null;
  source: AllocationSource;
  plan_id: string | null;
  period_start: Date | null;
  voided_at: Date | null;
  voided_by: string | null;
  void_reason: string | null;
}

export interface LedgerRow {
  id: string;
  user_id: string;
  allocation_id: string | null;
  kind: LedgerKind;
  amount: number;
  balance_after: string;
  session_id: string | null;
  usage_record_id: string | null;
  created_by: string;
  created_at: Date;
}

/** One ledger line to write: `amount` is signed and also applied to the allocation's remaining. */
export interface Movement {
  allocationId: string;
  amount: number;
  balanceAfter: number;
  kind: LedgerKind;
}

/** What credits_take answers (migration 1732000009000). */
export interface TakeRow {
  out_status: 'ok' | 'insufficient' | 'key_limit' | 'rate_limited' | 'no_account';
  /** The balance before the take. */
  out_available: string;
  /** What the overdraft could still cover (debits only). */
  out_headroom: string;
  /** Taken from allocations. */
  out_collected: string;
  /** Added to the user's debt (an `overdraft` entry). */
  out_debt: string;
  out_balance_after: string;
  out_parts: TakePart[];
  out_retry_after: number | null;
}

/** What a take is, besides its amount: the ledger references and the spend controls in play. */
export interface TakeSpec {
  userId: string;
  amount: number;
  kind: 'debit' | 'hold';
  /**
   * strict: all or nothing; up_to: what balance and overdraft allow (settlement overruns); collect:
   * all, the part the balance lacks as debt whatever the overdraft (a reviewed shortfall).
   */
  mode: 'strict' | 'up_to' | 'collect';
  refs: LedgerRefs;
  apiKeyId?: string | null;
  /** The defaults for users without their own settings. */
  rateDefault: number | null;
  thresholds: number[];
}

export const ALLOCATION_COLUMNS = `id, user_id, total_credits, remaining_credits, allocated_by, allocated_at, expires_at, notes,
  source, plan_id, period_start, voided_at, voided_by, void_reason`;

/**
 * The FIFO take as a FROM item: $1 user, $2 amount, $3 kind, $4 mode, $5 session id, $6 usage record
 * id, $7 created by, $8 API key, $9 default hourly limit, $10 default alert thresholds.
 */
const CREDITS_TAKE = `credits_take($1, $2::int, $3, $4, $5, $6::uuid, $7, $8::uuid, $9::int, $10::int[])`;
const TAKE_COLUMNS = `taken.out_status, taken.out_available, taken.out_headroom, taken.out_collected, taken.out_debt,
  taken.out_balance_after, taken.out_parts, taken.out_retry_after`;

function takeParams(take: TakeSpec): unknown[] {
  return [
    take.userId,
    take.amount,
    take.kind,
    take.mode,
    take.refs.sessionId ?? null,
    take.refs.usageRecordId ?? null,
    take.refs.createdBy,
    take.apiKeyId ?? null,
    take.rateDefault,
    take.thresholds,
  ];
}

export function toAllocation(row: AllocationRow): AllocationView {
  return {
    id: row.id,
    userId: row.user_id,
    totalCredits: row.total_credits,
    remainingCredits: row.remaining_credits,
    allocatedBy: row.allocated_by,
    allocatedAt: row.allocated_at.toISOString(),
    expiresAt: row.expires_at.toISOString(),
    notes: row.notes,
    source: row.source,
    planId: row.plan_id,
    periodStart: row.period_start?.toISOString() ?? null,
    voidedAt: row.voided_at?.toISOString() ?? null,
    voidedBy: row.voided_by,
    voidReason: row.void_reason,
  };
}

export function toLedgerEntry(row: LedgerRow): LedgerEntryView {
  return {
    id: String(row.id),
    userId: row.user_id,
    allocationId: row.allocation_id,
    kind: row.kind,
    amount: row.amount,
    balanceAfter: Number(row.balance_after),
    sessionId: row.session_id,
    usageRecordId: row.usage_record_id,
    createdBy: row.created_by,
    createdAt: row.created_at.toISOString(),
  };
}

/**
 * A row of a statement built around a credits function: the function's columns (all `out_*`) and
 * the caller's columns (the rest), apart.
 */
export function splitOutColumns<T>(row: Record<string, unknown>): { out: T; rest: Record<string, unknown> } {
  const out: Record<string, unknown> = {};
  const rest: Record<string, unknown> = {};
  for (const [column, value] of Object.entries(row)) (column.startsWith('out_') ? out : rest)[column] = value;
  return { out: out as T, rest };
}

/** An INSERT … that runs in the take's statement, only when the take happened (see takeAndInsert). */
export interface InsertAfterTake {
  /** The prepared statement's label (`usage_record_with_debit`); its name adds a hash of the text. */
  name: string;
  /** `INSERT INTO table (columns) SELECT <values>`; its `$1…$n` are `params`. */
  insert: string;
  /** Columns to return from the inserted row. */
  returning: string;
  params: unknown[];
}

@Injectable()
export class CreditsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  get reader(): EntityManager {
    return this.dataSource.manager;
  }

  async available(manager: EntityManager, userId: string): Promise<number> {
    const rows: { n: string }[] = await manager.query(`SELECT credit_available($1) AS n`, [userId]);
    return Number(rows[0].n);
  }

  /** Lock the account row, check the spend controls, take FIFO and write: ONE round trip. */
  async take(manager: EntityManager, take: TakeSpec): Promise<TakeRow> {
    const rows: TakeRow[] = await manager.query(`SELECT * FROM ${CREDITS_TAKE}`, takeParams(take));
    return rows[0];
  }

  /**
   * A strict debit and an INSERT in ONE statement, as a named (prepared) statement: the take is the
   * CTE `taken`, the insert (`inserted`) runs only when it succeeded.
   */
  async takeAndInsert<R>(
    manager: EntityManager,
    take: TakeSpec,
    then: InsertAfterTake,
  ): Promise<TakeRow & { row: R | null }> {
    const rows = await queryParts<Record<string, unknown>>(
      manager,
      then.name,
      [
        { name: 'taken', sql: `SELECT * FROM ${CREDITS_TAKE}`, params: takeParams(take), materialized: true },
        {
          name: 'inserted',
          sql: `${then.insert} FROM taken WHERE taken.out_status = 'ok' RETURNING ${then.returning}`,
          params: then.params,
        },
      ],
      { sql: `SELECT ${TAKE_COLUMNS}, inserted.* FROM taken LEFT JOIN inserted ON true`, params: [] },
    );
    const { out, rest } = splitOutColumns<TakeRow>(rows[0]);
    return { ...out, row: out.out_status === 'ok' ? (rest as R) : null };
  }

  /**
   * A new allocation with its `grant` entry, in one statement. A plan period's grant (or rollover)
   * that already exists is not inserted again (`credit_allocations_period_idx`): null.
   */
  async insertGrant(manager: EntityManager, input: GrantInput): Promise<AllocationRow | null> {
    const rows: AllocationRow[] = await manager.query(
      `WITH balance AS (SELECT credit_available($1) AS n),
       a AS (
         INSERT INTO credit_allocations
                (user_id, total_credits, remaining_credits, allocated_by, expires_at, notes,
                 source, plan_id, subscription_id, period_start, allocated_at)
         -- clock time, not the transaction's: two grants of one transaction (a rollover, then the
         -- period's allowance) are spent in the order they were made
         VALUES ($1, $2, $2, $3, $4, $5, $6, $7, $8, $9, clock_timestamp())
         ON CONFLICT (subscription_id, period_start, source) WHERE subscription_id IS NOT NULL DO NOTHING
         RETURNING ${ALLOCATION_COLUMNS}),
       l AS (
         INSERT INTO credit_ledger (user_id, allocation_id, kind, amount, balance_after, created_by)
         SELECT a.user_id, a.id, 'grant', a.total_credits,
                balance.n + CASE WHEN a.expires_at > now() THEN a.total_credits ELSE 0 END, $3
           FROM a, balance)
       SELECT * FROM a`,
      [
        input.userId,
        input.credits,
        input.allocatedBy,
        input.expiresAt,
        input.notes ?? null,
        input.source ?? 'manual',
        input.plan?.planId ?? null,
        input.plan?.subscriptionId ?? null,
        input.plan?.periodStart ?? null,
      ],
    );
    return rows[0] ?? null;
  }

  /**
   * Repays the user's debt from a just-granted allocation, as far as it goes: a `repay` entry on it,
   * its remaining and the debt lowered together, in one statement. Answers what was repaid.
   */
  async repayDebt(manager: EntityManager, grant: AllocationRow, createdBy: string): Promise<number> {
    const rows: { n: number }[] = await manager.query(
      `WITH amt AS (
         SELECT LEAST(c.debt, $3::int) AS n FROM credit_accounts c WHERE c.user_id = $1 AND c.debt > 0),
       acc AS (UPDATE credit_accounts c SET debt = c.debt - amt.n, updated_at = now() FROM amt WHERE c.user_id = $1),
       alloc AS (
         UPDATE credit_allocations a SET remaining_credits = a.remaining_credits - amt.n FROM amt WHERE a.id = $2),
       l AS (
         INSERT INTO credit_ledger (user_id, allocation_id, kind, amount, balance_after, created_by)
         SELECT $1, $2, 'repay', -amt.n,
                credit_available($1) - CASE WHEN $4::timestamptz > now() THEN amt.n ELSE 0 END,
                $5
           FROM amt)
       SELECT n FROM amt`,
      [grant.user_id, grant.id, grant.total_credits, grant.expires_at, createdBy],
    );
    return rows[0]?.n ?? 0;
  }

  /** After a grant: the balance alerts armed again up to the balance it left (credit_balance_alerts_rearm()). */
  async rearmBalanceAlerts(manager: EntityManager, userId: string): Promise<void> {
    await manager.query(`SELECT credit_balance_alerts_rearm($1::varchar, credit_available($1))`, [userId]);
  }

  /** balance.low / balance.depleted for a movement outside credits_take (a void). */
  async balanceAlerts(manager: EntityManager, userId: string, before: number, after: number, defaults: number[]) {
    if (after >= before) return;
    await manager.query(
      `SELECT credit_balance_alerts($1::varchar, $2::bigint, $3::bigint,
                COALESCE((SELECT low_balance_thresholds FROM credit_accounts WHERE user_id = $1), $4::int[]))`,
      [userId, before, after, defaults],
    );
  }

  /** The plan allocation a subscription got for the period starting at `periodStart`, locked. */
  async lockPeriodGrant(
    manager: EntityManager,
    subscriptionId: string,
    periodStart: Date,
  ): Promise<(AllocationRow & { active: boolean }) | null> {
    const rows: (AllocationRow & { active: boolean })[] = await manager.query(
      `SELECT ${ALLOCATION_COLUMNS}, expires_at > now() AS active FROM credit_allocations
        WHERE subscription_id = $1 AND period_start = $2 AND source = 'plan' FOR UPDATE`,
      [subscriptionId, periodStart],
    );
    return rows[0] ?? null;
  }

  async findAllocation(manager: EntityManager, allocationId: string): Promise<AllocationRow | null> {
    const rows: AllocationRow[] = await manager.query(
      `SELECT ${ALLOCATION_COLUMNS} FROM credit_allocations WHERE id = $1`,
      [allocationId],
    );
    return rows[0] ?? null;
  }

  async lockAllocation(manager: EntityManager, allocationId: string): Promise<AllocationRow & { active: boolean }> {
    const rows: (AllocationRow & { active: boolean })[] = await manager.query(
      `SELECT ${ALLOCATION_COLUMNS}, expires_at > now() AS active FROM credit_allocations WHERE id = $1 FOR UPDATE`,
      [allocationId],
    );
    return rows[0];
  }

  /** Marks the allocation voided (the first void's who, when and why stay); answers it as stored. */
  async markVoided(
    manager: EntityManager,
    allocationId: string,
    voidedBy: string,
    reason: string | null,
  ): Promise<AllocationRow> {
    const [rows]: [AllocationRow[], number] = await manager.query(
      `UPDATE credit_allocations SET voided_at = COALESCE(voided_at, now()), voided_by = COALESCE(voided_by, $2),
              void_reason = COALESCE(void_reason, $3) WHERE id = $1
       RETURNING ${ALLOCATION_COLUMNS}`,
      [allocationId, voidedBy, reason],
    );
    return rows[0];
  }

  /**
   * Applies movements to the allocations and appends their ledger entries in ONE statement
   * (entries get ascending ids in the given order).
   */
  async writeMovements(manager: EntityManager, userId: string, movements: Movement[], refs: LedgerRefs) {
    if (movements.length === 0) return;
    const params: unknown[] = [userId, refs.sessionId ?? null, refs.usageRecordId ?? null, refs.createdBy];
    const values = movements.map((m, i) => {
      params.push(m.allocationId, m.amount, m.balanceAfter, m.kind);
      const p = params.length;
      return `(${i}, $${p - 3}::uuid, $${p - 2}::int, $${p - 1}::bigint, $${p}::varchar)`;
    });
    await manager.query(
      `WITH v(ord, allocation_id, amount, balance_after, kind) AS (VALUES ${values.join(', ')}),
       net AS (SELECT allocation_id, SUM(amount)::int AS amount FROM v GROUP BY allocation_id),
       upd AS (
         UPDATE credit_allocations a SET remaining_credits = a.remaining_credits + net.amount,
                -- credits put back into an allocation make it due for the expiry job again (a no-op,
                -- so still a HOT update, for the unexpired allocations releases normally go to)
                expiry_done = a.expiry_done AND net.amount < 0
           FROM net WHERE a.id = net.allocation_id AND net.amount <> 0 RETURNING a.id)
       INSERT INTO credit_ledger (user_id, allocation_id, kind, amount, balance_after, session_id, usage_record_id, created_by)
       SELECT $1, v.allocation_id, v.kind, v.amount, v.balance_after, $2, $3::uuid, $4 FROM v ORDER BY v.ord`,
      params,
    );
  }
}
