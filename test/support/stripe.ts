import Stripe from 'stripe';

import { type TestApp, uniqueId } from './app.js';

/** The signing secret the Stripe specs start their app with (STRIPE_WEBHOOK_SECRET). */
export const STRIPE_SECRET = 'whsec_test_0123456789abcdefghijklmnopqrstuv';
const ROUTE = '/api/payments/stripe/webhook';

/** An event shaped as Stripe sends it (API version 2025-10-29.clover), trimmed to the usual fields. */
export function stripeEvent(type: string, object: Record<string, unknown>) {
  return {
    id: uniqueId('evt_'),
    object: 'event',
    api_version: '2025-10-29.clover',
    created: Math.floor(Date.now() / 1000),
    data: { object },
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    type,
  };
}

/** A paid Checkout Session of `amountTotal` minor units naming the purchase, with its own payment intent. */
export function paidSession(purchaseId: string, amountTotal: number, currency = 'usd') {
  return {
    id: uniqueId('cs_test_'),
    object: 'checkout.session',
    amount_total: amountTotal,
    client_reference_id: purchaseId,
    currency,
    mode: 'payment',
    payment_intent: uniqueId('pi_'),
    payment_status: 'paid',
    status: 'complete',
  };
}

export function refundedCharge(paymentIntent: string, amount: number, amountRefunded: number, currency = 'usd') {
  return {
    id: uniqueId('ch_'),
    object: 'charge',
    amount,
    amount_refunded: amountRefunded,
    currency,
    payment_intent: paymentIntent,
    refunded: amountRefunded === amount,
    status: 'succeeded',
  };
}

export function dispute(paymentIntent: string, amount: number, status: string, currency = 'usd') {
  return {
    id: uniqueId('dp_'),
    object: 'dispute',
    amount,
    charge: uniqueId('ch_'),
    currency,
    payment_intent: paymentIntent,
    reason: 'fraudulent',
    status,
  };
}

/** Posts the event signed exactly as Stripe signs it (the library's own test header); expects 200. */
export async function deliverStripe(t: TestApp, event: object): Promise<void> {
  const payload = JSON.stringify(event);
  const header = Stripe.webhooks.generateTestHeaderString({ payload, secret: STRIPE_SECRET });
  await t.http
    .post(ROUTE)
    .set('Content-Type', 'application/json; charset=utf-8')
    .set('Stripe-Signature', header)
    .send(payload)
    .expect(200);
}
