import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';

import { type SqlPart, withParts } from '../database/statement-parts.js';
import type { BudgetScopes } from './budget-scopes.js';
import type { AllocationView, GrantInput, LedgerEntryView, LedgerKind, LedgerRefs, TakePart } from './credit-views.js';
import { fromMinor } from './currencies.js';
import type { AllocationSource } from './entities/credit-allocation.entity.js';

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
export interface AllocationRow {
  id: string;
  user_id: string;
  /** The org whose account it is (null for a user's): account_org_id(). */
  org_id: string | null;
  total_credits: number;
  remaining_credits: number;
  allocated_by: string;
  allocated_at: Date;
  expires_at: Date;
  notes: string | null;
  source: AllocationSource;
  plan_id: string | null;
  period_start: Date | null;
  purchase_id: string | null;
  voided_at: Date | null;
  voided_by: string | null;
  void_reason: string | null;
  /** Its money (docs/finance.md), null on a promotional allocation. */
  value_minor: string | null;
  value_remaining_minor: string | null;
  currency: string | null;
}

export interface LedgerRow {
  id: string;
  user_id: string | null;
  org_id: string | null;
  allocation_id: string | null;
  kind: LedgerKind;
  amount: number;
  balance_after: string;
  session_id: string | null;
  usage_record_id: string | null;
  correction_id: string | null;
  api_key_id: string | null;
  created_by: string;
  created_at: Date;
  value_minor: string | null;
  currency: string | null;
}

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

export const ALLOCATION_COLUMNS = `id, account_user_id(account_id) AS user_id, account_org_id(account_id) AS org_id, total_credits, remaining_credits, allocated_by, allocated_at, expires_at, notes,
  source, plan_id, period_start, purchase_id, voided_at, voided_by, void_reason, value_minor, value_remaining_minor, currency`;

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

export function toAllocation(row: AllocationRow): AllocationView {
  return {
    id: row.id,
    userId: row.user_id,
    orgId: row.org_id,
    totalCredits: row.total_credits,
    remainingCredits: row.remaining_credits,
    allocatedBy: row.allocated_by,
    allocatedAt: row.allocated_at.toISOString(),
    expiresAt: row.expires_at.toISOString(),
    notes: row.notes,
    source: row.source,
    planId: row.plan_id,
    periodStart: row.period_start?.toISOString() ?? null,
    purchaseId: row.purchase_id,
    voidedAt: row.voided_at?.toISOString() ?? null,
    voidedBy: row.voided_by,
    voidReason: row.void_reason,
    ...allocationMoney(row),
  };
}

/** An allocation's money as the API shows it (docs/finance.md): promotional when it has none. */
export function allocationMoney(
  row: Pick<AllocationRow, 'value_minor' | 'value_remaining_minor' | 'currency'>,
): Pick<AllocationView, 'value' | 'valueRemaining' | 'promotional'> {
  if (row.value_minor === null || row.currency === null)
    return { value: null, valueRemaining: null, promotional: true };
  return {
    value: { amount: fromMinor(row.value_minor, row.currency), currency: row.currency },
    valueRemaining: fromMinor(row.value_remaining_minor ?? 0, row.currency),
    promotional: false,
  };
}

export function toLedgerEntry(row: LedgerRow): LedgerEntryView {
  return {
    id: String(row.id),
    userId: row.user_id,
    orgId: row.org_id,
    allocationId: row.allocation_id,
    kind: row.kind,
    amount: row.amount,
    balanceAfter: Number(row.balance_after),
    sessionId: row.session_id,
    usageRecordId: row.usage_record_id,
    usageCorrectionId: row.correction_id,
    apiKeyId: row.api_key_id,
    createdBy: row.created_by,
    createdAt: row.created_at.toISOString(),
    ...(row.currency !== null && row.value_minor !== null
      ? { value: fromMinor(row.value_minor, row.currency), currency: row.currency }
      : {}),
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
}
