import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { bearer, startTestApp, type TestApp, uniqueId } from './support/app.js';
import { Fixtures, type FixtureUser, tokenFor } from './support/fixtures.js';

// The security review's findings about the Stripe webhook (docs/purchases.md "Stripe"): its
// deliveries were counted as anonymous traffic (429 for a busy shop), it paid a purchase of any
// provider that a Checkout Session named, and one payment could pay two purchases.

const SECRET = 'whsec_test_findings_0123456789abcdefghijkl';
const ROUTE = '/api/payments/stripe/webhook';

function completed(purchaseId: string, paymentIntent = uniqueId('pi_')) {
  return {
    id: uniqueId('evt_'),
    object: 'event',
    api_version: '2025-10-29.clover',
    created: Math.floor(Date.now() / 1000),
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    type: 'checkout.session.completed',
    data: {
      object: {
        id: uniqueId('cs_test_'),
        object: 'checkout.session',
        amount_total: 1000,
        client_reference_id: purchaseId,
        currency: 'usd',
        metadata: {},
        mode: 'payment',
        payment_intent: paymentIntent,
        payment_status: 'paid',
        status: 'complete',
      },
    },
  };
}

describe('security findings: the Stripe webhook', () => {
  let t: TestApp;
  let f: Fixtures;
  const service = bearer(tokenFor('admin', 'sfs-platform'));

  beforeAll(async () => {
    t = await startTestApp({ STRIPE_WEBHOOK_SECRET: SECRET, ANONYMOUS_THROTTLE_LIMIT: '3' });
    f = new Fixtures(t, { prefix: 'sfs' });
  });
  afterAll(() => t?.close());

  const deliver = (event: object) => {
    const payload = JSON.stringify(event);
    const header = Stripe.webhooks.generateTestHeaderString({ payload, secret: SECRET });
    return t.http.post(ROUTE).set('Content-Type', 'application/json').set('Stripe-Signature', header).send(payload);
  };
  const pending = async (u: FixtureUser, provider = 'stripe') =>
    (
      await t.http
        .post('/api/purchases')
        .set(service)
        .send({ userId: u.id, credits: 1000, amount: '10.00', currency: 'usd', provider })
        .expect(201)
    ).body.id as string;
  const status = async (id: string) => (await t.http.get(`/api/purchases/${id}`).set(service).expect(200)).body.status;

  describe('finding: Stripe webhook under the anonymous limit', () => {
    it('Stripe’s deliveries are never refused with 429, while other anonymous requests are', async () => {
      const u = await f.newUser();
      const ids = await Promise.all([0, 1, 2, 3, 4, 5].map(() => pending(u)));
      for (const id of ids) {
        const res = await deliver(completed(id));
        expect(res.status, JSON.stringify(res.body)).toBe(200);
        expect(res.body.outcome).toBe('applied');
      }
      const anonymous = [];
      for (let i = 0; i < 5; i++) anonymous.push((await t.http.get('/api/users/me')).status);
      expect(anonymous).toContain(429);
      expect((await deliver(completed(await pending(u)))).status).toBe(200);
    });
  });

  describe('finding: Stripe webhook pays any provider’s purchase', () => {
    it('a Checkout Session naming a purchase of another provider is ignored; it stays unpaid', async () => {
      const u = await f.newUser();
      const id = await pending(u, 'paddle');
      const res = await deliver(completed(id)).expect(200);
      expect(res.body).toMatchObject({ outcome: 'ignored' });
      expect(res.body.reason).toMatch(/paddle/);
      expect(await status(id)).toBe('pending_payment');
      expect(await f.available(u.id)).toBe(0);
    });
  });

  describe('finding: one payment pays two purchases', () => {
    it('(provider, providerPaymentId) is unique: the second purchase is 409 PURCHASE_EXISTS or ignored', async () => {
      const u = await f.newUser();
      const [first, second, third] = [await pending(u), await pending(u), await pending(u)];
      const paymentId = uniqueId('pi_');
      await t.http.post(`/api/purchases/${first}/paid`).set(service).send({ providerPaymentId: paymentId }).expect(200);
      const again = await t.http
        .post(`/api/purchases/${second}/paid`)
        .set(service)
        .send({ providerPaymentId: paymentId });
      expect(again.status).toBe(409);
      expect(again.body.code).toBe('PURCHASE_EXISTS');
      const viaStripe = await deliver(completed(third, paymentId)).expect(200);
      expect(viaStripe.body.outcome).toBe('ignored');
      expect([await status(second), await status(third)]).toEqual(['pending_payment', 'pending_payment']);
      expect(await f.available(u.id)).toBe(1000);
      // Two at once: the unique index lets one through.
      const [a, b] = [await pending(u), await pending(u)];
      const both = uniqueId('pi_');
      const paid = await Promise.all(
        [a, b].map((id) => t.http.post(`/api/purchases/${id}/paid`).set(service).send({ providerPaymentId: both })),
      );
      expect(paid.map((r) => r.status).sort()).toEqual([200, 409]);
      expect(await f.available(u.id)).toBe(2000);
    });
  });
});
