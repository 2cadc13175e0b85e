import Stripe from 'stripe';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { CreditExpiryJob } from '../src/plans/credit-expiry.job.js';
import { bearer, startTestApp, type TestApp, uniqueId } from './support/app.js';
import { expireAllocationNow } from './support/clock.js';
import { Fixtures, type FixtureUser, principal, tokenFor } from './support/fixtures.js';
import { expectInvariants } from './support/invariants.js';

const SECRET = 'whsec_test_finance_0123456789abcdefghijklmn';
const service = bearer(tokenFor('admin', 'finance-platform'));

/**
 * What the credits are worth (docs/finance.md), with its worked figures: real purchases paid
 * through Stripe's signed webhook, spent by usage records, and the money each ledger line moves by
 * the rule floor(V × n / R) (all of V when n = R): revenue, breakage, refunds, a lost dispute and a
 * transfer to an organisation, exactly to the cent.
 */
describe('finance: valued allocations and the money rule', () => {
  let t: TestApp;
  let f: Fixtures;
  const users: string[] = [];

  beforeAll(async () => {
    t = await startTestApp({ STRIPE_WEBHOOK_SECRET: SECRET });
    f = new Fixtures(t, { users, prefix: 'fin' });
  });
  afterEach(() => expectInvariants(t, users));
  afterAll(() => t.close());

  function deliver(type: string, object: Record<string, unknown>) {
    const payload = JSON.stringify({
      id: uniqueId('evt_'),
      object: 'event',
      api_version: '2025-10-29.clover',
      created: Math.floor(Date.now() / 1000),
      data: { object },
      livemode: false,
      pending_webhooks: 1,
      request: { id: null, idempotency_key: null },
      type,
    });
    const header = Stripe.webhooks.generateTestHeaderString({ payload, secret: SECRET });
    return t.http
      .post('/api/payments/stripe/webhook')
      .set('Content-Type', 'application/json; charset=utf-8')
      .set('Stripe-Signature', header)
      .send(payload)
      .expect(200);
  }

  /** A purchase of `credits` for `amount` usd, paid by Stripe's checkout: its id, allocation and payment intent. */
  async function buy(owner: { userId: string } | { orgId: string }, credits: number, amount: string) {
    const created = await t.http
      .post('/api/purchases')
      .set(service)
      .send({ ...owner, credits, amount, currency: 'usd', provider: 'stripe' })
      .expect(201);
    const paymentIntent = uniqueId('pi_');
    const cents = Math.round(Number(amount) * 100);
    await deliver('checkout.session.completed', {
      id: uniqueId('cs_test_'),
      object: 'checkout.session',
      amount_total: cents,
      client_reference_id: created.body.id,
      currency: 'usd',
      mode: 'payment',
      payment_intent: paymentIntent,
      payment_status: 'paid',
      status: 'complete',
    });
    const purchase = (await t.http.get(`/api/purchases/${created.body.id}`).set(service).expect(200)).body;
    expect(purchase.status).toBe('paid');
    return { id: created.body.id as string, allocationId: purchase.allocationId as string, paymentIntent };
  }

  const record = (u: FixtureUser, credits: number, orgId?: string) =>
    t.http
      .post('/api/usage/record')
      .set(u.auth)
      .send({ service: 'chat', operation: 'completion', credits, ...(orgId ? { orgId } : {}) })
      .expect(201);

  /** The allocation's lines, oldest first: kind, credits, money and finance category. */
  async function lines(allocationId: string) {
    const { rows } = await t.db.query(
      `SELECT kind, amount, value_minor::int AS value, currency, category FROM credit_ledger
        WHERE allocation_id = $1 ORDER BY id`,
      [allocationId],
    );
    return rows as { kind: string; amount: number; value: number | null; currency: string | null; category: string }[];
  }

  async function allocation(u: FixtureUser, id: string) {
    const res = await t.http.get('/api/credits/allocations').query({ userId: u.id }).set(service).expect(200);
    return (res.body.items as { id: string }[]).find((a) => a.id === id) as Record<string, unknown>;
  }

  it('1,000 credits bought for 10.00, 333 used: 3.33 recognised, 6.67 left on the lot', async () => {
    const u = await f.newUser();
    const p = await buy({ userId: u.id }, 1000, '10.00');
    await record(u, 333);
    expect(await lines(p.allocationId)).toEqual([
      { kind: 'grant', amount: 1000, value: 1000, currency: 'usd', category: 'purchased' },
      { kind: 'debit', amount: -333, value: -333, currency: 'usd', category: 'recognized' },
    ]);
    expect(await allocation(u, p.allocationId)).toMatchObject({
      value: { amount: '10.00', currency: 'usd' },
      valueRemaining: '6.67',
      promotional: false,
      remainingCredits: 667,
    });
    const ledger = await t.http.get('/api/credits/ledger').set(u.auth).expect(200);
    expect(ledger.body.items[0]).toMatchObject({ kind: 'debit', amount: -333, value: '-3.33', currency: 'usd' });
  });

  it('10.00 for 3 credits used one at a time: 3.33, 3.33, 3.34', async () => {
    const u = await f.newUser();
    const p = await buy({ userId: u.id }, 3, '10.00');
    for (let i = 0; i < 3; i++) await record(u, 1);
    const debits = (await lines(p.allocationId)).filter((l) => l.kind === 'debit').map((l) => l.value);
    expect(debits).toEqual([-333, -333, -334]);
    expect(await allocation(u, p.allocationId)).toMatchObject({ valueRemaining: '0.00', remainingCredits: 0 });
  });

  it('an expiry takes the money left: breakage', async () => {
    const u = await f.newUser();
    const p = await buy({ userId: u.id }, 1000, '10.00');
    await record(u, 250);
    await expireAllocationNow(t.db, p.allocationId);
    await t.app.get(CreditExpiryJob).expireDue();
    const expiry = (await lines(p.allocationId)).at(-1);
    expect(expiry).toEqual({ kind: 'expire', amount: -750, value: -750, currency: 'usd', category: 'expired' });
    const booked = await t.db.query(
      `SELECT l.booked_at = a.expires_at AS at_expiry FROM credit_ledger l JOIN credit_allocations a ON a.id = l.allocation_id
        WHERE l.allocation_id = $1 AND l.kind = 'expire'`,
      [p.allocationId],
    );
    expect(booked.rows).toEqual([{ at_expiry: true }]);
  });

  it('a partly used purchase refunds the money of its credits left, by the rule', async () => {
    const u = await f.newUser();
    const p = await buy({ userId: u.id }, 1000, '10.00');
    await record(u, 333);
    const refundable = await t.http.get(`/api/purchases/${p.id}/refundable`).set(service).expect(200);
    expect(refundable.body).toEqual({ credits: 667, amount: '6.67' });
    const part = await t.http.post(`/api/purchases/${p.id}/refunds`).set(service).send({ credits: 300 }).expect(201);
    // floor(667 × 300 / 667) = 300 cents
    expect(part.body).toMatchObject({ credits: 300, amount: '3.00' });
    const rest = await t.http.get(`/api/purchases/${p.id}/refundable`).set(service).expect(200);
    expect(rest.body).toEqual({ credits: 367, amount: '3.67' });
    const all = await t.http.post(`/api/purchases/${p.id}/refunds`).set(service).send({}).expect(201);
    expect(all.body).toMatchObject({ credits: 367, amount: '3.67' });
    const money = (await lines(p.allocationId)).map((l) => [l.category, l.value]);
    expect(money).toEqual([
      ['purchased', 1000],
      ['recognized', -333],
      ['refunded', -300],
      ['refunded', -367],
    ]);
    // Revenue and refunds add up to what was paid.
    expect((await t.http.get(`/api/purchases/${p.id}`).set(service).expect(200)).body.refundedAmount).toBe('6.67');
  });

  it('a lost dispute: the frozen money stays a liability until it leaves as charged_back', async () => {
    const u = await f.newUser();
    const p = await buy({ userId: u.id }, 1000, '10.00');
    await record(u, 100);
    await deliver('charge.dispute.created', {
      id: uniqueId('dp_'),
      object: 'dispute',
      amount: 1000,
      currency: 'usd',
      payment_intent: p.paymentIntent,
      status: 'needs_response',
    });
    expect(await allocation(u, p.allocationId)).toMatchObject({ remainingCredits: 0, valueRemaining: '0.00' });
    await deliver('charge.dispute.closed', {
      id: uniqueId('dp_'),
      object: 'dispute',
      amount: 1000,
      currency: 'usd',
      payment_intent: p.paymentIntent,
      status: 'lost',
    });
    expect((await lines(p.allocationId)).map((l) => [l.kind, l.amount, l.value, l.category])).toEqual([
      ['grant', 1000, 1000, 'purchased'],
      ['debit', -100, -100, 'recognized'],
      ['freeze', -900, -900, null],
      ['unfreeze', 900, 900, null],
      ['refund', -900, -900, 'charged_back'],
    ]);
    const debt = await t.db.query(
      `SELECT amount, value_minor, category FROM credit_ledger WHERE account_id = (SELECT account_id FROM accounts WHERE user_id = $1) AND kind = 'debt'`,
      [u.id],
    );
    expect(debt.rows).toEqual([{ amount: -100, value_minor: null, category: null }]);
  });

  it('a valued lot transferred to an organisation arrives with its money and is recognised there', async () => {
    const u = await f.newUser();
    const member = principal('user', 'fin-member');
    users.push(member.id);
    const orgId = uniqueId('org').toLowerCase();
    await t.db.query(`INSERT INTO orgs (org_id, name, created_by) VALUES ($1, $1, 'test')`, [orgId]);
    await t.http
      .post('/api/credits/allocate')
      .set(service)
      .send({ userId: member.id, credits: 1, email: `${member.id}@example.com`, username: member.id })
      .expect(201);
    await t.db.query(`INSERT INTO org_members (org_id, user_id, role) VALUES ($1, $2, 'member')`, [orgId, member.id]);
    const p = await buy({ userId: u.id }, 1000, '10.00');
    await record(u, 1);
    const moved = await t.http
      .post('/api/credits/transfers')
      .set(bearer(tokenFor('supervisor', 'fin-sup')))
      .send({ from: { userId: u.id }, to: { orgId }, credits: 400 })
      .expect(201);
    const lot = moved.body.lots[0].toAllocationId as string;
    // floor(999 × 400 / 999) of the 9.99 left: 4.00 leaves with them.
    expect((await lines(p.allocationId)).at(-1)).toMatchObject({
      kind: 'transfer_out',
      value: -400,
      category: 'transferred_out',
    });
    expect(await lines(lot)).toEqual([
      { kind: 'transfer_in', amount: 400, value: 400, currency: 'usd', category: 'transferred_in' },
    ]);
    await record({ ...member, auth: bearer(tokenFor('user', member.id)) } as FixtureUser, 30, orgId);
    expect((await lines(lot)).at(-1)).toEqual({
      kind: 'debit',
      amount: -30,
      value: -30,
      currency: 'usd',
      category: 'recognized',
    });
    const org = await t.http.get(`/api/orgs/${orgId}/allocations`).set(service).expect(200);
    expect(org.body.items.find((a: { id: string }) => a.id === lot)).toMatchObject({
      value: { amount: '4.00', currency: 'usd' },
      valueRemaining: '3.70',
    });
  });

  it('allocate takes a value (ISO 4217, its minor places); a plain grant is promotional', async () => {
    const u = await f.newUser();
    const valued = await t.http
      .post('/api/credits/allocate')
      .set(service)
      .send({ userId: u.id, credits: 100, value: { amount: '120.5', currency: 'kwd' } })
      .expect(201);
    expect(valued.body).toMatchObject({
      value: { amount: '120.500', currency: 'kwd' },
      valueRemaining: '120.500',
      promotional: false,
    });
    expect((await lines(valued.body.id))[0]).toMatchObject({ value: 120500, category: 'sold' });
    const yen = await t.http
      .post('/api/credits/allocate')
      .set(service)
      .send({ userId: u.id, credits: 3, value: { amount: '1000', currency: 'jpy' } })
      .expect(201);
    expect(yen.body.value).toEqual({ amount: '1000', currency: 'jpy' });
    for (const value of [
      { amount: '1.5', currency: 'jpy' },
      { amount: '1.001', currency: 'usd' },
      { amount: '0', currency: 'usd' },
      { amount: '-1', currency: 'usd' },
      { amount: '10', currency: 'xyz' },
      { amount: '10', currency: 'USD' },
      { amount: 10, currency: 'usd' },
    ]) {
      const res = await t.http.post('/api/credits/allocate').set(service).send({ userId: u.id, credits: 1, value });
      expect(res.status, JSON.stringify(value)).toBe(400);
    }
    const plain = await t.http
      .post('/api/credits/allocate')
      .set(service)
      .send({ userId: u.id, credits: 5 })
      .expect(201);
    expect(plain.body).toMatchObject({ value: null, valueRemaining: null, promotional: true });
    expect((await lines(plain.body.id))[0]).toMatchObject({ value: null, category: 'granted' });
  });
});
