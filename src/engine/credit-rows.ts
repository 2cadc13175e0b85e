import { fromMinor } from '../common/money/currencies.js';
import type { AllocationView, LedgerEntryView, LedgerKind } from './credit-views.js';
import type { AllocationSource } from './credit-views.js';

/**
 * The engine's allocations and ledger lines as rows and as the views the API shows: the engine's
 * statements answer them, and the credits tenants' reads (src/credits/balances/) select them with
 * the same columns, so a row is mapped in one place.
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
