import { fromMinor } from '../common/money/currencies.js';
import type { AllocationView, LedgerEntryView, LedgerKind } from './credit-views.js';
import type { AllocationSource } from './credit-views.js';

/**
 * What statements above the engine read of it, so that its tables' columns and its SQL functions are
 * named here and nowhere else (docs/architecture.md "Folder imports"): the expressions the balance
 * reads, the lists of users and organisations and the feature checks compose, and the engine's
 * allocations and ledger lines as rows and as the views the API shows.
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

export const ALLOCATION_COLUMNS = `id, account_user_id(account_id) AS user_id, account_org_id(account_id) AS org_id, total_credits, remaining_credits, allocated_by, allocated_at, expires_at, notes,
  source, plan_id, period_start, purchase_id, voided_at, voided_by, void_reason, value_minor, value_remaining_minor, currency`;

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
 * An account's available credits as a SQL expression (unexpired allocations' remaining credits; held
 * credits are already out of them), for modules that report a balance next to other columns: the
 * credits module's one rule, credit_available(). `accountIdExpr` is the account id
 * (`accounts.account_id`; a list naming owners joins it with src/accounts/accounts.sql.ts).
 */
export function availableCreditsSql(accountIdExpr: string): string {
  return `credit_available(${accountIdExpr})`;
}

/** Credits held by the account's open streaming holds (already out of the available credits). */
export function heldCreditsSql(accountIdExpr: string): string {
  return `(SELECT COALESCE(SUM(ch.outstanding), 0)::bigint FROM credit_holds ch
            WHERE ch.account_id = ${accountIdExpr} AND ch.settled_at IS NULL)`;
}

/** What the account owes (credits spent beyond the balance through the overdraft); 0 without settings. */
export function debtSql(accountIdExpr: string): string {
  return `COALESCE((SELECT cc.debt FROM credit_accounts cc WHERE cc.account_id = ${accountIdExpr}), 0)::bigint`;
}

/**
 * What the account could spend now: its available credits plus what its overdraft still covers
 * (credit_headroom()), as /check's spendable and the charges' decision count it.
 */
export function spendableCreditsSql(accountIdExpr: string): string {
  return `(${availableCreditsSql(accountIdExpr)}
           + COALESCE((SELECT credit_headroom(cc.overdraft_limit, cc.debt) FROM credit_accounts cc
                        WHERE cc.account_id = ${accountIdExpr}), 0))::bigint`;
}

/**
 * A metered feature's use in the period of `period` containing `at` (docs/features.md), as a table of
 * one row (`spent`) to read in FROM: the credits module's cap counter, read for the features module's
 * check and list statements.
 */
export const featureUseSql = (featureKey: string, accountId: string, period: string, at: string): string =>
  `credit_cap_spent('feature', ${featureKey}, ${accountId}, ${period}, ${at})`;

/** Whether an allocation whose expiry is `expiresAtExpr` is live now (credit_allocation_live()). */
export const allocationLiveSql = (expiresAtExpr: string): string => `credit_allocation_live(${expiresAtExpr})`;

/**
 * A consuming feature check's decision under the account's lock, as a table of at most one row
 * (`allowed`, `used`, `cap_limit`, `replayed`, `reused`, `period`, `period_start`) to read in FROM:
 * credits_feature_consume(), the engine's counter of the feature's cap. The arguments are SQL
 * expressions of the caller's statement.
 */
export const featureConsumeSql = (a: {
  accountId: string;
  featureKey: string;
  limit: string;
  period: string;
  consume: string;
  eventId: string;
  at: string;
}): string =>
  `credits_feature_consume(${a.accountId}, ${a.featureKey}, ${a.limit}, ${a.period}, ${a.consume}, ${a.eventId}, ${a.at})`;

/** When the period of `period` containing `at` ends (credit_key_period_end(), a key's and a feature's periods). */
export const periodEndSql = (period: string, at: string): string => `credit_key_period_end(${period}, ${at})`;

/**
 * The volume period of `period` containing `at` on the account (`out_start`, `out_end`), as a table of
 * one row to read in FROM: credit_volume_period(), the take's own bounds.
 */
export const volumePeriodSql = (accountId: string, period: string, at: string): string =>
  `credit_volume_period(${accountId}, ${period}, ${at})`;

/**
 * The volume steps walked over records in order (`out_ord`, `out_credits` each), as a table to read in
 * FROM: credit_volume_walk(), the take's own arithmetic, pure.
 */
export const volumeWalkSql = (mode: string, steps: string, tokens: string, bases: string): string =>
  `credit_volume_walk(${mode}, ${steps}, ${tokens}, ${bases})`;
