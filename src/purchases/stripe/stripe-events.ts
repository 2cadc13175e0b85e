import { isUuid } from '../../common/validation/ids.js';
import type { ProviderEventType } from '../purchase-status.js';
import { fromStripeAmount } from './stripe-amounts.js';

/** The Stripe webhook's route (app.factory reads its body raw: the signature covers the exact bytes). */
export const STRIPE_WEBHOOK_ROUTE = '/api/payments/stripe/webhook';

/** The part of a Stripe event this service reads: `{id, type, data: {object}}`. */
export interface StripeEventLike {
  id: string;
  type: string;
  data: { object: unknown };
}

/** What a Stripe event means for a purchase, and how the purchase is found. */
export type StripeAction =
  | {
      action: 'paid';
      purchaseId: string;
      paymentIntent: string;
      /** What the session charged (`amount_total` in Stripe's unit, `currency`): it must be the purchase's. */
      paid: { stripeAmount: number; currency: string };
    }
  | { action: 'fail' | 'expire'; purchaseId: string }
  | {
      action: 'provider';
      paymentIntent: string;
      event: { type: ProviderEventType; amountRefunded?: string };
    }
  | { action: 'ignore'; reason: string };

type Obj = Record<string, unknown>;
const asObject = (value: unknown): Obj => (value !== null && typeof value === 'object' ? (value as Obj) : {});

/** An id Stripe sends either as a string or, expanded, as an object with `id`. */
function idOf(value: unknown): string | null {
  if (typeof value === 'string' && value.length > 0 && value.length <= 255) return value;
  const id = asObject(value).id;
  return typeof id === 'string' && id.length > 0 && id.length <= 255 ? id : null;
}

/** A Checkout Session's purchase: `client_reference_id`, else `metadata.purchaseId` (our purchase id). */
function purchaseOf(session: Obj): string | null {
  if (isUuid(session.client_reference_id)) return session.client_reference_id;
  const fromMetadata = asObject(session.metadata).purchaseId;
  return isUuid(fromMetadata) ? fromMetadata : null;
}

/**
 * Maps the Stripe events of docs/purchases.md "Stripe" (Checkout Session, Charge and Dispute objects)
 * to purchase actions; every other type is ignored.
 */
export function stripeAction(event: StripeEventLike): StripeAction {
  const object = asObject(event.data?.object);
  switch (event.type) {
    case 'checkout.session.completed':
    case 'checkout.session.async_payment_succeeded':
    case 'checkout.session.async_payment_failed':
    case 'checkout.session.expired': {
      const purchaseId = purchaseOf(object);
      if (!purchaseId) return { action: 'ignore', reason: 'no purchase id in client_reference_id or metadata' };
      if (event.type === 'checkout.session.async_payment_failed') return { action: 'fail', purchaseId };
      if (event.type === 'checkout.session.expired') return { action: 'expire', purchaseId };
      // completed with an async method (a bank debit) is not paid yet: async_payment_succeeded says when
      if (object.payment_status !== 'paid')
        return { action: 'ignore', reason: `payment_status ${String(object.payment_status)}` };
      const paymentIntent = idOf(object.payment_intent);
      const total = object.amount_total;
      const currency = typeof object.currency === 'string' ? object.currency.toLowerCase() : null;
      if (!paymentIntent) return { action: 'ignore', reason: 'paid session without payment_intent' };
      if (!Number.isSafeInteger(total) || (total as number) < 0 || !currency) {
        return { action: 'ignore', reason: 'paid session without amount_total and currency' };
      }
      return {
        action: 'paid',
        purchaseId,
        paymentIntent,
        paid: { stripeAmount: total as number, currency },
      };
    }
    case 'charge.refunded': {
      const paymentIntent = idOf(object.payment_intent);
      const refunded = object.amount_refunded;
      const currency = object.currency;
      if (!paymentIntent) return { action: 'ignore', reason: 'charge without payment_intent' };
      if (!Number.isSafeInteger(refunded) || (refunded as number) < 0 || typeof currency !== 'string') {
        return { action: 'ignore', reason: 'charge without amount_refunded' };
      }
      const amountRefunded = fromStripeAmount(refunded as number, currency.toLowerCase());
      if (amountRefunded === null) {
        return { action: 'ignore', reason: `amount_refunded ${String(refunded)} is no amount of ${currency}` };
      }
      return { action: 'provider', paymentIntent, event: { type: 'refunded', amountRefunded } };
    }
    case 'charge.dispute.created':
    case 'charge.dispute.closed': {
      const paymentIntent = idOf(object.payment_intent);
      if (!paymentIntent) return { action: 'ignore', reason: 'dispute without payment_intent' };
      if (event.type === 'charge.dispute.created') {
        return { action: 'provider', paymentIntent, event: { type: 'dispute_opened' } };
      }
      // an inquiry closed without a chargeback (warning_closed) gives the credits back as a win does
      if (object.status === 'won' || object.status === 'warning_closed') {
        return { action: 'provider', paymentIntent, event: { type: 'dispute_won' } };
      }
      if (object.status === 'lost') return { action: 'provider', paymentIntent, event: { type: 'dispute_lost' } };
      return { action: 'ignore', reason: `dispute status ${String(object.status)}` };
    }
    default:
      return { action: 'ignore', reason: `event type ${event.type} is not used` };
  }
}
