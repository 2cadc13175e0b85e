import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { bearer, startTestApp, type TestApp } from './support/app.js';
import { Fixtures, tokenFor } from './support/fixtures.js';
import { expectInvariants } from './support/invariants.js';
import { deliverStripe, paidSession, refundedCharge, STRIPE_SECRET, stripeEvent } from './support/stripe.js';

/**
 * A purchase's refund status follows its money (docs/purchases.md): `refunded` when its
 * refundedAmount equals its amount, else `partially_refunded` once anything was refunded.
 */
describe('purchases: refunded or partially refunded', () => {
  let t: TestApp;
  let f: Fixtures;
  const users: string[] = [];
  const admin = bearer(tokenFor('admin', 'refund-status-admin'));

  beforeAll(async () => {
    t = await startTestApp({ STRIPE_WEBHOOK_SECRET: STRIPE_SECRET });
    f = new Fixtures(t, { users, prefix: 'rfs' });
  });
  afterAll(() => t?.close());

  /** 1,000 credits for 10.00 usd, paid through Stripe. */
  async function paidPurchase() {
    const u = await f.newUser();
    const created = await t.http
      .post('/api/purchases')
      .set(admin)
      .send({ userId: u.id, credits: 1000, amount: '10.00', currency: 'usd', provider: 'stripe' })
      .expect(201);
    const session = paidSession(created.body.id, 1000);
    await deliverStripe(t, stripeEvent('checkout.session.completed', session));
    return { u, id: created.body.id as string, pi: session.payment_intent as string };
  }
  const view = async (id: string) => (await t.http.get(`/api/purchases/${id}`).set(admin).expect(200)).body;

  it('4.00 refunded by the provider, then the other 600 credits by an admin: partially, until 10.00 is', async () => {
    const p = await paidPurchase();
    await deliverStripe(t, stripeEvent('charge.refunded', refundedCharge(p.pi, 1000, 400)));
    expect(await view(p.id)).toMatchObject({ status: 'partially_refunded', refundedAmount: '4.00' });
    const refund = await t.http.post(`/api/purchases/${p.id}/refunds`).set(admin).send({}).expect(201);
    expect(refund.body).toMatchObject({ credits: 600, amount: '6.00' });
    // every credit is back, but the refunded amount (6.00) is not the amount
    expect(await view(p.id)).toMatchObject({ status: 'partially_refunded', refundedAmount: '6.00' });
    // the provider reports the admin's 6.00 with its own: 10.00
    await deliverStripe(t, stripeEvent('charge.refunded', refundedCharge(p.pi, 1000, 1000)));
    expect(await view(p.id)).toMatchObject({ status: 'refunded', refundedAmount: '10.00' });
    await expectInvariants(t, users);
  });

  it('credits spent: the rest refunded leaves it partially refunded; all of it refunded is refunded', async () => {
    const spent = await paidPurchase();
    await t.http
      .post('/api/usage/record')
      .set(spent.u.auth)
      .send({ service: 'chat', operation: 'completion', credits: 333 })
      .expect(201);
    await t.http.post(`/api/purchases/${spent.id}/refunds`).set(admin).send({}).expect(201);
    expect(await view(spent.id)).toMatchObject({ status: 'partially_refunded', refundedAmount: '6.67' });

    const whole = await paidPurchase();
    await t.http.post(`/api/purchases/${whole.id}/refunds`).set(admin).send({ credits: 400 }).expect(201);
    expect(await view(whole.id)).toMatchObject({ status: 'partially_refunded', refundedAmount: '4.00' });
    await t.http.post(`/api/purchases/${whole.id}/refunds`).set(admin).send({}).expect(201);
    expect(await view(whole.id)).toMatchObject({ status: 'refunded', refundedAmount: '10.00' });
    await expectInvariants(t, users);
  });
});
