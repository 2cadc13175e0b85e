import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';

import type { BudgetScopes } from '../common/validation/budget-scopes.js';
import { type SqlPart, withParts } from '../database/statement-parts.js';
import { ALLOCATION_COLUMNS, type AllocationRow } from './credit-sql.js';
import type { GrantInput, LedgerRefs, TakePart } from './credit-views.js';

/** No subscription's renewal is due: what the expiry job reads before a module hands it its part. */
const NO_RENEWALS: SqlPart = {
  sql: 'SELECT NULL::uuid AS subscription_id, NULL::timestamptz AS next_grant_at WHERE false',
  params: [],
};

/**
 * Every SQL statement that reads or writes the credit tables (credit_allocations, credit_ledger,
 * credit_holds) and the one take (`credits_take_events()`) for one event, with their row mappers. Only the credits module
 * uses it; the rules live in CreditsService (docs/money.md).
 */

/** What the one take (credits_take_events()) answers for one event. */
export interface TakeRow {
  out_status:
    | 'ok'
    | 'insufficient'
    | 'key_limit'
    | 'member_limit'
    | 'rate_limited'
    | 'budget_exceeded'
    | 'no_account'
    | 'not_a_member';
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
  /**
   * The member who spent from an organisation's account (the engine checks the membership and the
   * member's limit); null: a user's own account. The account itself is the id the caller passes.
   */
  member: string | null;
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
  /** The budget scopes the write names (docs/budgets.md); absent: none, no budget is read. */
  scopes?: BudgetScopes | null;
}

/**
 * The one take (credits_take_events()) with one event, as a FROM item: $1 the account id (null: no
 * account, the take's no_account), $2 amount, $3 kind, $4 mode, $5 session id, $6 usage record id, $7
 * created by, $8 API key, $9 default hourly limit, $10 default alert thresholds, $11 the org's member
 * (null for a user's account).
 */
const CREDITS_TAKE = `credits_take_events($7, $8::uuid, $9::int, $10::int[], ARRAY[$1::bigint],
  ARRAY[$2::int], ARRAY[$6::uuid], ARRAY[$11::varchar], ARRAY[$3::varchar], ARRAY[$4::varchar], ARRAY[$5::varchar])`;
const TAKE_COLUMNS = `taken.out_status, taken.out_available, taken.out_headroom, taken.out_collected, taken.out_debt,
  taken.out_balance AS out_balance_after, taken.out_parts, taken.out_retry_after`;

function takeParams(accountId: string | null, take: TakeSpec): unknown[] {
  return [
    accountId,
    take.amount,
    take.kind,
    take.mode,
    take.refs.sessionId ?? null,
    take.refs.usageRecordId ?? null,
    take.refs.createdBy,
    take.apiKeyId ?? null,
    take.rateDefault,
    take.thresholds,
    take.member,
  ];
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

/** An INSERT … that runs in the take's statement, only when the take happened (a hold's: InsertAfterHold). */
export interface InsertAfterTake {
  /** The prepared statement's label; its name adds a hash of the text. */
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

  /**
   * Lock the account row, check the spend controls, take FIFO and write: ONE round trip. `accountId`
   * is the payer's (null: no account, the take's no_account), resolved by the caller.
   */
  async take(manager: EntityManager, accountId: string | null, take: TakeSpec): Promise<TakeRow> {
    const rows: TakeRow[] = await manager.query(
      `SELECT ${TAKE_COLUMNS} FROM ${CREDITS_TAKE} taken`,
      takeParams(accountId, take),
    );
    return rows[0];
  }

  /**
   * A grant through credits_grant(): under the account lock, the allocation, its `grant` line and the
   * repay of the account's debt, the alerts armed again (`rearm`), credits.granted told. Answers the
   * allocation after the repay; null when a plan period's grant (or rollover) or the purchase's
   * allocation exists already.
   */
  async grant(
    manager: EntityManager,
    accountId: string,
    input: GrantInput,
    rearm = true,
  ): Promise<AllocationRow | null> {
    const rows: AllocationRow[] = await manager.query(
      `SELECT ${ALLOCATION_COLUMNS}
         FROM credits_grant($1::bigint, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::uuid, $12::uuid, $13::bigint, $14)`,
      [
        accountId,
        input.credits,
        input.allocatedBy,
        input.expiresAt,
        input.notes ?? null,
        input.source ?? 'manual',
        input.plan?.planId ?? null,
        input.plan?.subscriptionId ?? null,
        input.plan?.periodStart ?? null,
        rearm,
        input.purchaseId ?? null,
        input.apiKeyId ?? null,
        input.value ? input.value.minor.toString() : null,
        input.value?.currency ?? null,
      ],
    );
    return rows[0] ?? null;
  }

  /** A plan period's rollover through credits_rollover(): the new allocation, or null. */
  async rollover(
    manager: EntityManager,
    input: {
      accountId: string;
      from: string;
      cap: number;
      expiresAt: Date;
      plan: NonNullable<GrantInput['plan']>;
    },
  ): Promise<AllocationRow | null> {
    const rows: AllocationRow[] = await manager.query(
      `SELECT ${ALLOCATION_COLUMNS} FROM credits_rollover($1::bigint, $2, $3, $4, $5, $6, $7)`,
      [
        input.accountId,
        input.from,
        input.cap,
        input.expiresAt,
        input.plan.planId,
        input.plan.subscriptionId,
        input.plan.periodStart,
      ],
    );
    return rows[0] ?? null;
  }

  /** A void through credits_void(): the allocation as it stands after (null: no such allocation). */
  async void(
    manager: EntityManager,
    allocationId: string,
    input: { voidedBy: string; reason: string | null; thresholds: number[] },
  ): Promise<AllocationRow | null> {
    const rows: AllocationRow[] = await manager.query(
      `SELECT ${ALLOCATION_COLUMNS} FROM credits_void($1, $2, $3, $4)`,
      [allocationId, input.voidedBy, input.reason, input.thresholds],
    );
    return rows[0] ?? null;
  }

  /** The plan allocation a subscription got for the period starting at `periodStart`, locked. */
  async lockPeriodGrant(
    manager: EntityManager,
    subscriptionId: string,
    periodStart: Date,
  ): Promise<(AllocationRow & { active: boolean }) | null> {
    const rows: (AllocationRow & { active: boolean })[] = await manager.query(
      `SELECT ${ALLOCATION_COLUMNS}, credit_allocation_live(expires_at) AS active FROM credit_allocations
        WHERE subscription_id = $1 AND period_start = $2 AND source = 'plan' FOR UPDATE`,
      [subscriptionId, periodStart],
    );
    return rows[0] ?? null;
  }

  /** An allocation with its account's id (what its lock takes). */
  async findAllocation(
    manager: EntityManager,
    allocationId: string,
  ): Promise<(AllocationRow & { account_id: string }) | null> {
    const rows: (AllocationRow & { account_id: string })[] = await manager.query(
      `SELECT ${ALLOCATION_COLUMNS}, account_id FROM credit_allocations WHERE id = $1`,
      [allocationId],
    );
    return rows[0] ?? null;
  }

  async lockAllocation(manager: EntityManager, allocationId: string): Promise<AllocationRow & { active: boolean }> {
    const rows: (AllocationRow & { active: boolean })[] = await manager.query(
      `SELECT ${ALLOCATION_COLUMNS}, credit_allocation_live(expires_at) AS active FROM credit_allocations WHERE id = $1 FOR UPDATE`,
      [allocationId],
    );
    return rows[0];
  }

  /**
   * One round of the expiry job (credits_expire_due()): its own statement, so its own transaction.
   * `renewing` (handed to CreditsService.expireDue by the plans module's expiry job) is its CTE `renewing`, handed to the function as arrays.
   */
  async expireDue(batch: number, thresholds: number[], renewing: SqlPart = NO_RENEWALS) {
    const statement = withParts([{ name: 'renewing', ...renewing }], {
      sql: `SELECT d.* FROM (SELECT array_agg(subscription_id) AS ids, array_agg(next_grant_at) AS due FROM renewing) r
             CROSS JOIN LATERAL credits_expire_due($1, $2, r.ids, r.due) d`,
      params: [batch, thresholds],
    });
    const rows: { out_due: number; out_expired: number; out_credits: string }[] = await this.dataSource.query(
      statement.sql,
      statement.params,
    );
    return { due: rows[0].out_due, expired: rows[0].out_expired, credits: Number(rows[0].out_credits) };
  }

  /**
   * One batch of the credits.expiring notices at the lead times `hours` (credits_notice_expiring(),
   * `FOR UPDATE SKIP LOCKED`, so several instances can run it at once): allocations reaching a lead
   * time not yet considered are marked, and those with credits left get their event, in one
   * statement. Rows a movement or another instance holds are skipped (the next run gets them).
   */
  async noticeExpiringBatch(hours: number[], batch: number): Promise<{ processed: number; told: number }> {
    const rows: { processed: number; told: number }[] = await this.dataSource.query(
      `SELECT out_processed AS processed, out_told AS told FROM credits_notice_expiring($1::integer[], $2)`,
      [hours, batch],
    );
    return { processed: Number(rows[0].processed), told: Number(rows[0].told) };
  }
}
