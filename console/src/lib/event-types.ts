import type { EventResponseDto } from '../api/generated';

export type EventType = EventResponseDto['type'];

/** Every event type, in the API's order; the type below fails to compile when openapi.json adds one. */
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

type Missing = Exclude<EventType, (typeof EVENT_TYPES)[number]>;
export const everyEventTypeListed: [Missing] extends [never] ? true : Missing = true;
