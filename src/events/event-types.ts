/**
 * Every event the service emits and its `data`, exactly as the contract lists them ("Webhooks and
 * alerts"). The event JSON delivered and listed is `{id, type, createdAt, data}`.
 */
export interface EventPayloads {
  /** The available balance went from at least `threshold` to below it (once per crossing). */
  'balance.low': { userId: string; threshold: number; balance: number };
  /** The available balance reached 0. */
  'balance.depleted': { userId: string };
  /** An allocation was granted (any source). `expiresAt` is ISO-8601 UTC. */
  /** `orgId` (and `userId` null) when the allocation is an organisation's. */
  'credits.granted': {
    userId: string | null;
    orgId?: string;
    allocationId: string;
    credits: number;
    expiresAt: string;
    source: string;
  };
  /** Once per allocation with credits left, `CREDITS_EXPIRING_NOTICE_HOURS` before it expires. */
  'credits.expiring': { userId: string; allocationId: string; remainingCredits: number; expiresAt: string };
  'credits.expired': { userId: string; allocationId: string; credits: number };
  'usage.needs_review': { userId: string; usageRecordId: string; shortfall: number };
  /** A streaming session was settled by the expiry job; `charged` is what its settlement charged. */
  'session.expired': { userId: string; sessionId: string; charged: number };
  'api_key.limit_reached': { userId: string; apiKeyId: string; creditLimit: number; limitPeriod: string };
  /** `orgId` (and `userId` null) when the subscription is an organisation's. */
  'subscription.renewed': { userId: string | null; orgId?: string; planId: string; allocationId: string };
  /** Sent by POST /api/webhooks/:id/test to that endpoint only. */
  'webhook.test': { webhookId: string };
}

export type EventType = keyof EventPayloads;

export const EVENT_TYPES = [
  'balance.low',
  'balance.depleted',
  'credits.granted',
  'credits.expiring',
  'credits.expired',
  'usage.needs_review',
  'session.expired',
  'api_key.limit_reached',
  'subscription.renewed',
  'webhook.test',
] as const satisfies readonly EventType[];

/** An event as delivered and listed. `createdAt` is ISO-8601 UTC with milliseconds. */
export interface EventView<T extends EventType = EventType> {
  id: string;
  type: T;
  createdAt: string;
  data: EventPayloads[T];
}
