/** A purchase's states (docs/purchases.md "The purchase"): pending until the provider says paid, failed or expired. */
export const PURCHASE_STATUSES = [
  'pending_payment',
  'paid',
  'failed',
  'expired',
  'partially_refunded',
  'refunded',
  'disputed',
  'charged_back',
] as const;
export type PurchaseStatus = (typeof PURCHASE_STATUSES)[number];

/** The states a purchase has an allocation in (it was paid). */
export const PAID_STATUSES: readonly PurchaseStatus[] = [
  'paid',
  'partially_refunded',
  'refunded',
  'disputed',
  'charged_back',
];

/** Where a take-back came from: an admin's refund route, the provider's refund, a lost dispute. */
export const REFUND_ORIGINS = ['admin', 'provider', 'chargeback'] as const;
export type RefundOrigin = (typeof REFUND_ORIGINS)[number];

/** What a provider reports about a paid purchase (POST /api/purchases/:id/provider-events). */
export const PROVIDER_EVENT_TYPES = ['refunded', 'dispute_opened', 'dispute_won', 'dispute_lost'] as const;
export type ProviderEventType = (typeof PROVIDER_EVENT_TYPES)[number];
