/**
 * Every event the service emits and its `data`, exactly as docs/webhooks.md "Events" lists them. The event JSON delivered and listed is `{id, type, createdAt, data}`.
 * Every event about an account names it one way: a user's `{userId}`, an organisation's
 * `{userId: null, orgId}`, or `{userId, orgId}` when the event is about a member's use of the
 * organisation's credits (`userId`: the member, the key's owner). The engine's SQL functions name it
 * through credit_event(), the TypeScript emitters through `namedInEvent()`.
 */
export interface EventPayloads {
  /** The available balance went from at least `threshold` to below it (once per crossing). */
  /** An organisation's account: `orgId`, and `userId` null. */
  'balance.low': { userId: string | null; orgId?: string; threshold: number; balance: number };
  /** The available balance reached 0. */
  'balance.depleted': { userId: string | null; orgId?: string };
  /**
   * An allocation was granted (any source: a transfer's lots and a purchase too). `expiresAt` is
   * ISO-8601 UTC. `orgId` (and `userId` null) when the allocation is an organisation's.
   */
  'credits.granted': {
    userId: string | null;
    orgId?: string;
    allocationId: string;
    credits: number;
    expiresAt: string;
    source: string;
  };
  /**
   * Once per allocation and lead time of `CREDITS_EXPIRING_NOTICE_HOURS` (`leadHours`) while it has
   * credits left; an organisation's: `orgId`, and `userId` null.
   */
  'credits.expiring': {
    userId: string | null;
    orgId?: string;
    allocationId: string;
    remainingCredits: number;
    expiresAt: string;
    leadHours: number;
  };
  /**
   * The account's run-out day at its recent burn (docs/credits.md "Runway") came within `days` of
   * RUNWAY_ALERT_DAYS: once per account, threshold and run-out day. `runsOutAt` is ISO-8601 UTC.
   */
  'credits.runway': { userId: string | null; orgId?: string; runsOutAt: string; days: number };
  /** An allocation's remaining credits expired; an organisation's: `orgId`, and `userId` null. */
  'credits.expired': { userId: string | null; orgId?: string; allocationId: string; credits: number };
  /** `orgId` when an organisation paid (`userId`: the member). */
  'usage.needs_review': { userId: string; usageRecordId: string; shortfall: number; orgId?: string };
  /** A usage record was corrected (docs/usage.md "Corrections"); `orgId` when an organisation paid (`userId`: the member). */
  'usage.corrected': {
    userId: string | null;
    orgId?: string;
    recordId: string;
    correctionId: string;
    delta: number;
    credits: number;
  };
  /** A streaming session was settled by the expiry job; `charged` is what its settlement charged. */
  'session.expired': { userId: string; sessionId: string; charged: number; orgId?: string };
  /** `orgId` when the key charged an organisation (`userId`: the key's owner). */
  'api_key.limit_reached': {
    userId: string;
    apiKeyId: string;
    creditLimit: number;
    limitPeriod: string;
    orgId?: string;
  };
  /** A member's spend from their organisation first reached their limit in the period (once per period). */
  'org.member_limit_reached': { orgId: string; userId: string; limit: number; spentInPeriod: number; period: string };
  /**
   * A metered feature's use first reached its limit in the period (once per account, feature and
   * period); an organisation's account: `orgId`, and `userId` null (docs/features.md).
   */
  'feature.limit_reached': { userId: string | null; orgId?: string; featureKey: string; limit: number; period: string };
  /**
   * A budget by scope reached its limit, or refused a write, first in its period (docs/budgets.md);
   * an organisation's account: `orgId`, and `userId` null.
   */
  'budget.reached': {
    userId: string | null;
    orgId?: string;
    budgetId: string;
    scope: { kind: string; id: string };
    limit: number;
    used: number;
    period: string;
  };
  /** `orgId` (and `userId` null) when the subscription is an organisation's. */
  'subscription.renewed': { userId: string | null; orgId?: string; planId: string; allocationId: string };
  /**
   * A subscription changed plan (docs/plans.md "Changing plans"), once per change: now, or when a
   * change scheduled for the period's end was applied. `fromPlanId` null: there was no live one.
   */
  'subscription.changed': {
    userId: string | null;
    orgId?: string;
    fromPlanId: string | null;
    toPlanId: string;
    timing: 'now' | 'period_end';
    allowance: 'difference' | 'prorated' | 'full';
    anchor: 'keep' | 'restart';
    creditsGranted: number;
    effectiveAt: string;
  };
  /** A purchase was paid: its allocation was granted. */
  'purchase.paid': {
    userId: string | null;
    orgId?: string;
    purchaseId: string;
    allocationId: string;
    credits: number;
    /** When the purchase's allocation expires (ISO-8601 UTC): a receipt says so. */
    expiresAt: string;
    /** A package's bonus, granted in the same allocation (absent when there is none). */
    bonusCredits?: number;
    amount: string;
    currency: string;
  };
  /**
   * Credits were taken back from a purchase: `origin` admin (the platform must pay `amount` back) or
   * provider (the provider refunded it already); `debt` is what was already spent and is now owed.
   */
  'purchase.refunded': {
    userId: string | null;
    orgId?: string;
    purchaseId: string;
    refundId: string;
    origin: 'admin' | 'provider';
    credits: number;
    debt: number;
    amount: string;
    currency: string;
  };
  /** A dispute opened: `credits` of the purchase's allocation are frozen. */
  'purchase.disputed': { userId: string | null; orgId?: string; purchaseId: string; credits: number };
  /** A dispute closed: won (the credits are back) or lost (taken back; `debt` is what was spent). */
  'purchase.dispute_closed': {
    userId: string | null;
    orgId?: string;
    purchaseId: string;
    outcome: 'won' | 'lost';
    credits: number;
    debt: number;
  };
  /**
   * A charge left the account below its auto-recharge threshold and an attempt opened: the platform
   * charges the customer and creates the purchase with this `attemptId` (docs/auto-recharge.md).
   */
  'auto_recharge.requested': { userId: string | null; orgId?: string; attemptId: string; credits: number };
  /** The third failed attempt in a row turned auto-recharge off (`attemptId`: the last one). */
  'auto_recharge.disabled': { userId: string | null; orgId?: string; attemptId: string; consecutiveFailures: number };
  /**
   * A promotion code was redeemed: its allocation (`source: "promotion"`) was granted. `orgId` (and
   * `userId` null) when an organisation's account redeemed it.
   */
  'promotion.redeemed': {
    userId: string | null;
    orgId?: string;
    code: string;
    redemptionId: string;
    allocationId: string;
    credits: number;
    expiresAt: string;
  };
  /** A re-rate finished (docs/pricing.md "Re-rating"): what it examined and corrected. */
  'pricing.rerate.completed': { id: string; rerateId: string; records: number; corrected: number; delta: number };
  /** Sent by POST /api/webhooks/:id/test to that endpoint only. */
  'webhook.test': { webhookId: string };
}

/**
 * How an event names its account (the one shape of every event above): an organisation's adds
 * `orgId` beside `userId` (null, or the member whose use it is); a user's is `{userId}` alone.
 */
export const namedInEvent = (userId: string | null, orgId: string | null): { userId: string | null; orgId?: string } =>
  orgId === null ? { userId } : { userId, orgId };

export type EventType = keyof EventPayloads;

export const EVENT_TYPES = [
  'balance.low',
  'balance.depleted',
  'credits.granted',
  'credits.expiring',
  'credits.expired',
  'credits.runway',
  'usage.needs_review',
  'usage.corrected',
  'session.expired',
  'api_key.limit_reached',
  'org.member_limit_reached',
  'subscription.renewed',
  'subscription.changed',
  'purchase.paid',
  'purchase.refunded',
  'purchase.disputed',
  'purchase.dispute_closed',
  'auto_recharge.requested',
  'auto_recharge.disabled',
  'promotion.redeemed',
  'pricing.rerate.completed',
  'feature.limit_reached',
  'budget.reached',
  'webhook.test',
] as const satisfies readonly EventType[];

/** An event as delivered and listed. `createdAt` is ISO-8601 UTC with milliseconds. */
export interface EventView<T extends EventType = EventType> {
  id: string;
  type: T;
  createdAt: string;
  data: EventPayloads[T];
}
