import { readFileSync } from 'node:fs';
import path from 'node:path';

import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { bearer, startTestApp, type TestApp, uniqueId } from './support/app.js';
import { Fixtures, type FixtureUser, tokenFor } from './support/fixtures.js';
import { expectInvariants } from './support/invariants.js';
import { root } from './support/sources.js';

const SECRET = 'whsec_test_0123456789abcdefghijklmnopqrstuv';
const ROUTE = '/api/payments/stripe/webhook';

/** Events shaped as Stripe sends them (API version 2025-10-29.clover), trimmed to the usual fields. */
function stripeEvent(type: string, object: Record<string, unknown>, id = uniqueId('evt_')) {
  return {
    id,
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

function checkoutSession(purchaseId: string, fields: Record<string, unknown> = {}) {
  return {
    id: uniqueId('cs_test_'),
    object: 'checkout.session',
    amount_subtotal: 1000,
    amount_total: 1000,
    cancel_url: 'https://platform.example.com/cancel',
    client_reference_id: purchaseId,
    created: Math.floor(Date.now() / 1000),
    currency: 'usd',
    customer: null,
    customer_details: { email: 'buyer@example.com', name: 'Buyer', phone: null, tax_exempt: 'none', tax_ids: [] },
    expires_at: Math.floor(Date.now() / 1000) + 86_400,
    livemode: false,
    metadata: {},
    mode: 'payment',
    payment_intent: uniqueId('pi_'),
    payment_method_types: ['card'],
    payment_status: 'paid',
    status: 'complete',
    success_url: 'https://platform.example.com/success',
    url: null,
    ...fields,
  };
}

function charge(paymentIntent: string, amountRefunded: number) {
  return {
    id: uniqueId('ch_'),
    object: 'charge',
    amount: 1000,
    amount_captured: 1000,
    amount_refunded: amountRefunded,
    captured: true,
    created: Math.floor(Date.now() / 1000),
    currency: 'usd',
    disputed: false,
    livemode: false,
    metadata: {},
    paid: true,
    payment_intent: paymentIntent,
    refunded: amountRefunded === 1000,
    status: 'succeeded',
  };
}

function dispute(paymentIntent: string, status: string) {
  return {
    id: uniqueId('dp_'),
    object: 'dispute',
    amount: 1000,
    charge: uniqueId('ch_'),
    created: Math.floor(Date.now() / 1000),
    currency: 'usd',
    is_charge_refundable: false,
    livemode: false,
    metadata: {},
    payment_intent: paymentIntent,
    reason: 'fraudulent',
    status,
  };
}

describe('the Stripe webhook', () => {
  let t: TestApp;
  let f: Fixtures;
  const service = bearer(tokenFor('admin', 'stripe-platform'));

  beforeAll(async () => {
    t = await startTestApp({ STRIPE_WEBHOOK_SECRET: SECRET });
    f = new Fixtures(t, { prefix: 'st' });
  });
  afterAll(() => t.close());

  /** Posts the event signed exactly as Stripe signs it (the library's own test header). */
  function deliver(event: object, options: { secret?: string; timestamp?: number; signature?: string } = {}) {
    const payload = JSON.stringify(event);
    const header =
      options.signature ??
      Stripe.webhooks.generateTestHeaderString({
        payload,
        secret: options.secret ?? SECRET,
        timestamp: options.timestamp,
      });
    return t.http
      .post(ROUTE)
      .set('Content-Type', 'application/json; charset=utf-8')
      .set('Stripe-Signature', header)
      .send(payload);
  }

  async function pending(u: FixtureUser) {
    const res = await t.http
      .post('/api/purchases')
      .set(service)
      .send({ userId: u.id, credits: 1000, amount: '10.00', currency: 'usd', provider: 'stripe' })
      .expect(201);
    return res.body.id as string;
  }
  const purchase = async (id: string) => (await t.http.get(`/api/purchases/${id}`).set(service).expect(200)).body;
  const total = async (u: FixtureUser) =>
    (await t.http.get('/api/credits/balance').set(u.auth).expect(200)).body.totalCredits as number;
  /** What an event could have written for this user (spec files share the database: nothing global). */
  const counts = async (u: FixtureUser, eventId: string) =>
    (
      await t.db.query(
        `SELECT (SELECT count(*) FROM purchase_provider_events WHERE event_id = $2)::int AS events,
                (SELECT count(*) FROM credit_ledger WHERE member_id = $1)::int AS ledger,
                (SELECT count(*) FROM purchases WHERE user_id = $1 AND status <> 'pending_payment')::int AS settled,
                (SELECT count(*) FROM audit_log WHERE actor_user_id = 'stripe' AND target_id IN
                   (SELECT id::text FROM purchases WHERE user_id = $1))::int AS audited`,
        [u.id, eventId],
      )
    ).rows[0];

  it('checkout.session.completed pays the purchase once; the redelivered event changes nothing', async () => {
    const u = await f.newUser();
    const id = await pending(u);
    const session = checkoutSession(id);
    const event = stripeEvent('checkout.session.completed', session);
    const first = await deliver(event).expect(200);
    expect(first.body).toEqual({ received: true, outcome: 'applied' });
    expect(await purchase(id)).toMatchObject({ status: 'paid', providerPaymentId: session.payment_intent });
    expect(await total(u)).toBe(1000);

    const before = await counts(u, event.id);
    expect(before).toEqual({ events: 1, ledger: 1, settled: 1, audited: 1 });
    const again = await Promise.all([deliver(event), deliver(event), deliver(event)]);
    expect(again.map((r) => [r.status, r.body.outcome])).toEqual(Array(3).fill([200, 'duplicate']));
    expect(await counts(u, event.id)).toEqual(before);
    expect(await total(u)).toBe(1000);
    const audit = await t.db.query(
      `SELECT action, actor_user_id, actor_role, actor_via FROM audit_log WHERE target_id = $1 ORDER BY at`,
      [id],
    );
    expect(audit.rows).toEqual([
      { action: 'purchase.create', actor_user_id: 'stripe-platform', actor_role: 'admin', actor_via: 'jwt' },
      { action: 'purchase.paid', actor_user_id: 'stripe', actor_role: 'system', actor_via: 'webhook' },
    ]);
    // The audit API answers the webhook's entry within its documented schema (role and via enums).
    const listed = await t.http.get('/api/audit').query({ targetId: id }).set(service).expect(200);
    const { properties } = (JSON.parse(readFileSync(path.join(root, 'openapi.json'), 'utf8')) as OpenApiActor)
      .components.schemas.AuditActorDto;
    const actors = (listed.body.items as { actor: { role?: string; via: string } }[]).map((e) => e.actor);
    expect(actors.map((a) => a.via)).toEqual(['webhook', 'jwt']); // newest first
    for (const a of actors) {
      expect(properties.via.enum).toContain(a.via);
      expect(properties.role.enum).toContain(a.role);
    }
  });

  it('a paid session of another amount or currency grants nothing (a cheaper link naming the purchase)', async () => {
    const u = await f.newUser();
    const id = await pending(u); // 10.00 usd
    for (const fields of [{ amount_total: 100 }, { currency: 'eur' }, { amount_total: 100_000, currency: 'jpy' }]) {
      const res = await deliver(stripeEvent('checkout.session.completed', checkoutSession(id, fields))).expect(200);
      expect(res.body).toMatchObject({ received: true, outcome: 'ignored' });
    }
    expect(await purchase(id)).toMatchObject({ status: 'pending_payment', allocationId: null });
    expect(await total(u)).toBe(0);
    // The session of the purchase's own price pays it.
    await deliver(stripeEvent('checkout.session.completed', checkoutSession(id))).expect(200);
    expect(await purchase(id)).toMatchObject({ status: 'paid' });
    expect(await total(u)).toBe(1000);
  });

  it('kwd counts in Stripe’s thousandths: 1010 pays 1.010 kwd, 500 refunds 0.500; 1.005 kwd no session pays', async () => {
    const u = await f.newUser();
    const buy = async (amount: string) =>
      (
        await t.http
          .post('/api/purchases')
          .set(service)
          .send({ userId: u.id, credits: 1000, amount, currency: 'kwd', provider: 'stripe' })
          .expect(201)
      ).body.id as string;
    const id = await buy('1.010');
    // 101 would be 1.01 in hundredths: not what Stripe's kwd unit says
    const cents = checkoutSession(id, { amount_total: 101, currency: 'kwd' });
    const ignored = await deliver(stripeEvent('checkout.session.completed', cents)).expect(200);
    expect(ignored.body).toMatchObject({ received: true, outcome: 'ignored' });
    const session = checkoutSession(id, { amount_total: 1010, currency: 'kwd' });
    await deliver(stripeEvent('checkout.session.completed', session)).expect(200);
    expect(await purchase(id)).toMatchObject({ amount: '1.010', status: 'paid' });
    const refunded = { ...charge(session.payment_intent, 500), currency: 'kwd' };
    await deliver(stripeEvent('charge.refunded', refunded)).expect(200);
    // ceil(1000 × 0.500 / 1.010) = 496 credits back
    expect(await purchase(id)).toMatchObject({
      refundedAmount: '0.500',
      refundedCredits: 496,
      status: 'partially_refunded',
    });
    expect(await total(u)).toBe(504);
    // Stripe charges kwd in tens of thousandths only: 1.005 kwd has no session that pays it.
    const odd = await buy('1.005');
    for (const amount_total of [1005, 1000, 1010]) {
      const res = await deliver(
        stripeEvent('checkout.session.completed', checkoutSession(odd, { amount_total, currency: 'kwd' })),
      ).expect(200);
      expect(res.body).toMatchObject({ outcome: 'ignored' });
    }
    expect(await purchase(odd)).toMatchObject({ status: 'pending_payment', allocationId: null });
  });

  it('a bad or stale signature is a 400 and writes nothing', async () => {
    const u = await f.newUser();
    const id = await pending(u);
    const event = stripeEvent('checkout.session.completed', checkoutSession(id));
    const before = await counts(u, event.id);
    expect(before).toEqual({ events: 0, ledger: 0, settled: 0, audited: 0 });
    const wrongSecret = await deliver(event, { secret: 'whsec_someone_else_entirely_000000' }).expect(400);
    expect(wrongSecret.body.message).toMatch(/Stripe-Signature/);
    await deliver(event, { timestamp: Math.floor(Date.now() / 1000) - 3600 }).expect(400);
    await deliver(event, { signature: 'garbage' }).expect(400);
    await t.http.post(ROUTE).set('Content-Type', 'application/json').send(JSON.stringify(event)).expect(400);
    // a body changed after signing
    const payload = JSON.stringify(event);
    const header = Stripe.webhooks.generateTestHeaderString({ payload, secret: SECRET });
    await t.http
      .post(ROUTE)
      .set('Content-Type', 'application/json')
      .set('Stripe-Signature', header)
      .send(payload.replace('"paid"', '"paid" '))
      .expect(400);
    expect(await counts(u, event.id)).toEqual(before);
    expect((await purchase(id)).status).toBe('pending_payment');
    expect(await total(u)).toBe(0);
  });

  it('async payments: completed unpaid waits, succeeded pays; failed and expired sessions close it', async () => {
    const u = await f.newUser();
    const id = await pending(u);
    const session = checkoutSession(id, {
      payment_status: 'unpaid',
      client_reference_id: null,
      metadata: { purchaseId: id },
    });
    expect((await deliver(stripeEvent('checkout.session.completed', session)).expect(200)).body.outcome).toBe(
      'ignored',
    );
    expect((await purchase(id)).status).toBe('pending_payment');
    await deliver(
      stripeEvent('checkout.session.async_payment_succeeded', { ...session, payment_status: 'paid' }),
    ).expect(200);
    expect((await purchase(id)).status).toBe('paid');
    expect(await total(u)).toBe(1000);

    const failing = await pending(u);
    await deliver(
      stripeEvent('checkout.session.async_payment_failed', checkoutSession(failing, { payment_status: 'unpaid' })),
    ).expect(200);
    expect((await purchase(failing)).status).toBe('failed');
    const expiring = await pending(u);
    await deliver(
      stripeEvent(
        'checkout.session.expired',
        checkoutSession(expiring, { payment_status: 'unpaid', status: 'expired' }),
      ),
    ).expect(200);
    expect((await purchase(expiring)).status).toBe('expired');
    // a late expired event of a paid purchase changes nothing (200, ignored: Stripe must not resend it)
    const late = await deliver(stripeEvent('checkout.session.expired', checkoutSession(id))).expect(200);
    expect(late.body).toEqual({ received: true, outcome: 'ignored', reason: 'PURCHASE_NOT_PENDING' });
    expect((await purchase(id)).status).toBe('paid');
    // an event type the service does not use
    const other = await deliver(stripeEvent('customer.created', { id: 'cus_1', object: 'customer' })).expect(200);
    expect(other.body.outcome).toBe('ignored');
  });

  it('charge.refunded and the dispute events, found by the payment intent kept at payment', async () => {
    const u = await f.newUser();
    const id = await pending(u);
    const session = checkoutSession(id);
    await deliver(stripeEvent('checkout.session.completed', session)).expect(200);
    const pi = session.payment_intent;
    await t.http
      .post('/api/usage/record')
      .set(u.auth)
      .send({ service: 'chat', operation: 'c', credits: 700 })
      .expect(201);

    const refunded = stripeEvent('charge.refunded', charge(pi, 400));
    await deliver(refunded).expect(200);
    expect(await purchase(id)).toMatchObject({
      status: 'partially_refunded',
      refundedCredits: 300,
      debtCreated: 100,
      refundedAmount: '4.00',
    });
    await deliver(refunded).expect(200);
    expect((await purchase(id)).debtCreated).toBe(100);

    const u2 = await f.newUser();
    const id2 = await pending(u2);
    const s2 = checkoutSession(id2);
    await deliver(stripeEvent('checkout.session.completed', s2)).expect(200);
    await deliver(stripeEvent('charge.dispute.created', dispute(s2.payment_intent, 'needs_response'))).expect(200);
    expect(await purchase(id2)).toMatchObject({ status: 'disputed', disputedCredits: 1000 });
    expect(await total(u2)).toBe(0);
    await deliver(stripeEvent('charge.dispute.closed', dispute(s2.payment_intent, 'won'))).expect(200);
    expect(await purchase(id2)).toMatchObject({ status: 'paid', disputedCredits: 0 });
    expect(await total(u2)).toBe(1000);
    await t.http
      .post('/api/usage/record')
      .set(u2.auth)
      .send({ service: 'chat', operation: 'c', credits: 250 })
      .expect(201);
    await deliver(stripeEvent('charge.dispute.created', dispute(s2.payment_intent, 'needs_response'))).expect(200);
    await deliver(stripeEvent('charge.dispute.closed', dispute(s2.payment_intent, 'lost'))).expect(200);
    expect(await purchase(id2)).toMatchObject({ status: 'charged_back', refundedCredits: 750, debtCreated: 250 });
    // a payment intent no purchase has: ignored
    const unknown = await deliver(stripeEvent('charge.refunded', charge('pi_nobody', 100))).expect(200);
    expect(unknown.body.outcome).toBe('ignored');
    await expectInvariants(t, [u.id, u2.id]);
  });

  it('answers 404 while STRIPE_WEBHOOK_SECRET is unset', async () => {
    const other = await startTestApp();
    try {
      const payload = JSON.stringify(stripeEvent('checkout.session.completed', checkoutSession(uniqueId('x'))));
      const header = Stripe.webhooks.generateTestHeaderString({ payload, secret: SECRET });
      await other.http
        .post(ROUTE)
        .set('Content-Type', 'application/json')
        .set('Stripe-Signature', header)
        .send(payload)
        .expect(404);
    } finally {
      await other.close();
    }
  });
});

/** The audit actor's schema in the committed OpenAPI document. */
interface OpenApiActor {
  components: { schemas: { AuditActorDto: { properties: { role: { enum: string[] }; via: { enum: string[] } } } } };
}
