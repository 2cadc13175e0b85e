import type { EventType } from '../events/event-types.js';

/**
 * The events that email, in the order the preferences list them. The trigger that queues emails
 * (migration 1732000046200, `feature.limit_reached` added by 1732000860000, `credits.runway` by
 * 1732001700000, `budget.reached` by 1732001820000) fires for exactly these types; `promotion.redeemed` comes from the promotions
 * module, rendered from its data `{code, credits, expiresAt}`.
 */
export const EMAIL_KINDS = [
  'credits.expiring',
  'balance.low',
  'balance.depleted',
  'purchase.paid',
  'purchase.refunded',
  'promotion.redeemed',
  'auto_recharge.disabled',
  'org.member_limit_reached',
  'feature.limit_reached',
  'credits.runway',
  'budget.reached',
] as const satisfies readonly EventType[];

export type EmailKind = (typeof EMAIL_KINDS)[number];

export function isEmailKind(value: unknown): value is EmailKind {
  return typeof value === 'string' && (EMAIL_KINDS as readonly string[]).includes(value);
}
