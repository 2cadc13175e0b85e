import { fromMinor, toMinor } from '../common/money/currencies.js';
import { namedInEvent } from '../events/event-types.js';
import type { PurchaseStatus } from './purchase-status.js';
import type { PurchaseRow, RefundRow } from './purchases.repository.js';

/** The purchase view (docs/purchases.md "The purchase"). */
export interface PurchaseView {
  id: string;
  userId: string | null;
  orgId: string | null;
  credits: number;
  packageId: string | null;
  bonusCredits: number;
  amount: string;
  currency: string;
  provider: string;
  providerRef: string | null;
  providerPaymentId: string | null;
  status: PurchaseStatus;
  allocationId: string | null;
  refundedCredits: number;
  refundedAmount: string;
  disputedCredits: number;
  debtCreated: number;
  autoRechargeAttemptId: string | null;
  createdAt: string;
  paidAt: string | null;
}

export interface RefundView {
  id: string;
  purchaseId: string;
  credits: number;
  amount: string;
  createdAt: string;
}

/**
 * What was refunded, in the currency's minor units: the admins' refunds or the provider's cumulative
 * report, whichever is more.
 */
export function refundedMinor(row: PurchaseRow): bigint {
  const own = toMinor(row.refunded_amount, row.currency);
  const provider = toMinor(row.provider_refunded_amount, row.currency);
  return own > provider ? own : provider;
}

export function toPurchaseView(row: PurchaseRow): PurchaseView {
  return {
    id: row.id,
    userId: row.user_id,
    orgId: row.org_id,
    credits: row.credits,
    packageId: row.package_id,
    bonusCredits: row.bonus_credits,
    amount: row.amount,
    currency: row.currency,
    provider: row.provider,
    providerRef: row.provider_ref,
    providerPaymentId: row.provider_payment_id,
    status: row.status,
    allocationId: row.allocation_id,
    refundedCredits: row.refunded_credits,
    refundedAmount: fromMinor(refundedMinor(row), row.currency),
    disputedCredits: row.disputed_credits,
    debtCreated: row.debt_created,
    autoRechargeAttemptId: row.auto_recharge_attempt_id,
    createdAt: row.created_at.toISOString(),
    paidAt: row.paid_at?.toISOString() ?? null,
  };
}

export function toRefundView(row: RefundRow): RefundView {
  return {
    id: row.id,
    purchaseId: row.purchase_id,
    credits: row.credits,
    amount: row.amount,
    createdAt: row.created_at.toISOString(),
  };
}

/** What the purchase's allocation is granted: its credits and its package's bonus. */
export const grantedCredits = (row: Pick<PurchaseRow, 'credits' | 'bonus_credits'>): number =>
  row.credits + row.bonus_credits;

/** The account a purchase event names. */
export const accountOf = (row: PurchaseRow) => namedInEvent(row.user_id, row.org_id);

/**
 * The credits of a purchase still refundable: the free credits its lot has (`free`), never more than
 * the purchase has not yet given back, and none once it is wholly refunded or charged back. The lot
 * alone could say more (credits a session gave back after a refund took them, before those were
 * taken from holds too); the purchase's own figures bound it, so a refund never passes its credits.
 */
export function refundableCredits(row: PurchaseRow, free: number): number {
  if (row.status === 'refunded' || row.status === 'charged_back') return 0;
  return Math.max(0, Math.min(free, grantedCredits(row) - row.refunded_credits - row.debt_created));
}
