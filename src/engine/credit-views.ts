import type { EntityManager } from 'typeorm';

import type { AccountView } from '../auth/account-views.js';
import type { MoneyView } from '../common/money/currencies.js';

/** What the credits module hands out: plain views, never rows or entities. */

/**
 * Where an allocation came from: an allocate call, a plan's period grant, a rollover, a transfer's
 * lot, a paid purchase, a promotion code, the credits a new user receives (promotional, both), or
 * credits a usage correction gave back whose lot had expired or been voided, or what a `volume` step gave back.
 */
export const ALLOCATION_SOURCES = [
  'manual',
  'plan',
  'rollover',
  'transfer',
  'purchase',
  'promotion',
  'signup',
  'correction',
  'volume',
] as const;
export type AllocationSource = (typeof ALLOCATION_SOURCES)[number];

/** An auto-recharge attempt's states: opened by a take, closed by its purchase paid or by the platform failing it. */
export const AUTO_RECHARGE_ATTEMPT_STATUSES = ['open', 'succeeded', 'failed'] as const;
export type AutoRechargeAttemptStatus = (typeof AUTO_RECHARGE_ATTEMPT_STATUSES)[number];

export const LEDGER_KINDS = [
  'grant',
  'debit',
  'hold',
  'release',
  'expire',
  'void',
  'rollover',
  'repay',
  'overdraft',
  'transfer_out',
  'transfer_in',
  'refund',
  'debt',
  'freeze',
  'unfreeze',
  'correction',
  'volume_adjustment',
] as const;
export type LedgerKind = (typeof LEDGER_KINDS)[number];

/** A ledger line's finance category (docs/finance.md); `granted` is a promotional allocation's grant. */
export const FINANCE_CATEGORIES = [
  'purchased',
  'sold',
  'granted',
  'recognized',
  'expired',
  'refunded',
  'charged_back',
  'voided',
  'transferred_in',
  'transferred_out',
  'corrected',
] as const;
export type FinanceCategory = (typeof FINANCE_CATEGORIES)[number];

/** Who and what a ledger entry points at. */
export interface LedgerRefs {
  createdBy: string;
  usageRecordId?: string | null;
  sessionId?: string | null;
}

/**
 * A streaming settlement's money: the hold `held`, of which `kept` paid the charge and `refund`
 * went back; the overrun took `collected` from the balance and `debt` from the overdraft; nobody
 * paid `shortfall`. So charge = kept + collected + debt + shortfall.
 */
export interface Settlement {
  held: number;
  kept: number;
  refund: number;
  collected: number;
  debt: number;
  shortfall: number;
}

/** A spend's references plus the API key it is made through (its budget applies). */
export interface SpendRefs extends LedgerRefs {
  apiKeyId?: string | null;
}

export interface AllocationView {
  id: string;
  /** The user whose account it is in; null for an organisation's allocation. */
  userId: string | null;
  /** The organisation whose account it is in; null for a user's allocation. */
  orgId: string | null;
  totalCredits: number;
  remainingCredits: number;
  allocatedBy: string;
  allocatedAt: string;
  expiresAt: string;
  notes: string | null;
  source: AllocationSource;
  planId: string | null;
  periodStart: string | null;
  purchaseId: string | null;
  voidedAt: string | null;
  voidedBy: string | null;
  voidReason: string | null;
  /** The money paid for its credits (docs/finance.md); null: promotional. */
  value: MoneyView | null;
  /** The money of its credits left, in the currency's minor unit places; null: promotional. */
  valueRemaining: string | null;
  promotional: boolean;
}

/** What a grant creates. `plan` keys a plan period's grant or rollover (at most one each). */
export interface GrantInput {
  /** The id of the account granted to (a user's or an organisation's), resolved by the caller. */
  accountId: string;
  credits: number;
  expiresAt: Date;
  allocatedBy: string;
  notes?: string | null;
  source?: AllocationSource;
  plan?: { planId: string; subscriptionId: string; periodStart: Date };
  /** The API key that made the grant (its ledger lines name it); null or absent: a JWT or a job. */
  apiKeyId?: string | null;
  /** The paid purchase it is the one allocation of (`source: 'purchase'`): a second grant makes nothing. */
  purchaseId?: string;
  /** What its credits are worth (a valued allocation, docs/finance.md); absent: promotional. */
  value?: { minor: bigint; currency: string } | null;
}

/** A plan period's rollover (credits_rollover()): up to `cap` of the period from `from` into the next. */
export interface RolloverInput {
  accountId: string;
  cap: number;
  from: Date;
  into: NonNullable<GrantInput['plan']>;
  expiresAt: Date;
}

/** Credits taken back from a purchase's allocation; the lines name who acted (and the API key). */
export interface TakeBackInput {
  allocationId: string;
  credits: number;
  allowDebt: boolean;
  debtBefore: number;
  createdBy: string;
  apiKeyId: string | null;
  /** A lost dispute: its money leaves as charged_back, not refunded (docs/finance.md). */
  chargeback?: boolean;
}

/** A purchase's allocation frozen (`freeze`) or unfrozen for a dispute. */
export interface FreezeInput {
  allocationId: string;
  freeze: boolean;
  createdBy: string;
  apiKeyId: string | null;
}

/** What a take-back did: credits that left the allocation, credits made debt, what it had before. */
export interface TakenBack {
  taken: number;
  debt: number;
  refundable: number;
}

export interface LedgerEntryView {
  id: string;
  /** Null for lines of an organisation's account that name no member (grants, voids, expiries). */
  userId: string | null;
  /** The organisation whose account the entry is in (`userId` then names the member); null for a user's. */
  orgId: string | null;
  /** Null for `overdraft` entries (credits spent beyond the balance, owed as debt). */
  allocationId: string | null;
  kind: LedgerKind;
  amount: number;
  balanceAfter: number;
  sessionId: string | null;
  usageRecordId: string | null;
  /** The correction that moved it (its `id`, the usage_corrections row's; null: none). */
  usageCorrectionId: string | null;
  /** The API key the entry was made through (null: a JWT or a job). */
  apiKeyId: string | null;
  createdBy: string;
  createdAt: string;
  /** The money it moved on a valued allocation, signed like `amount` (docs/finance.md); absent otherwise. */
  value?: string;
  currency?: string;
}

export interface BalanceView extends AccountBalanceView {
  userId: string;
}

/** An account's balance (a user's or an organisation's), without its owner. */
export interface AccountBalanceView {
  totalCredits: number;
  heldCredits: number;
  debt: number;
  /** The currency the account pays in (docs/selling.md); null until set. */
  billingCurrency: string | null;
  activeAllocations: {
    id: string;
    credits: number;
    totalCredits: number;
    expiresAt: string;
    allocatedAt: string;
    notes: string | null;
    source: AllocationSource;
    planId: string | null;
    periodStart: string | null;
    purchaseId: string | null;
  }[];
}

export const RECONCILE_PROBLEMS = [
  'remaining_mismatch',
  'negative_remaining',
  'grant_mismatch',
  'hold_mismatch',
  'rollover_mismatch',
  'purchase_mismatch',
  'debt_mismatch',
  'transfer_mismatch',
] as const;

export interface ReconcileMismatch {
  problem: (typeof RECONCILE_PROBLEMS)[number];
  /** Null for an organisation's account (then `orgId` names it). */
  userId: string | null;
  orgId: string | null;
  allocationId: string | null;
  sessionId: string | null;
  expected: number;
  actual: number;
}

/**
 * A reconcile check a module above credits owns (purchases: a refunded purchase's lot keeps no
 * credits), handed to CreditQueriesService.reconcile by its caller and read with `manager` in
 * reconcile's one REPEATABLE READ snapshot.
 */
export type ReconcileCheck = (manager: EntityManager) => Promise<ReconcileMismatch[]>;

/** How much of a take came from each allocation. */
export interface TakePart {
  allocationId: string;
  amount: number;
}

/** The liability summary (GET /api/credits/summary). */
export interface CreditSummaryView {
  available: number;
  held: number;
  debt: number;
  expiringWithin7Days: number;
  byDay: { date: string; granted: number; spent: number; expired: number; voided: number }[];
}

/** One source allocation a transfer drew on, and the allocation it arrived as (same expiry). */
export interface TransferLotView {
  fromAllocationId: string;
  toAllocationId: string;
  credits: number;
  expiresAt: string;
}

export interface TransferView {
  id: string;
  from: AccountView;
  to: AccountView;
  credits: number;
  reason: string | null;
  lots: TransferLotView[];
  createdBy: string;
  createdAt: string;
}
