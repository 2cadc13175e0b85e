import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { CreditExpiringNoticeJob } from '../src/credits/notices/credit-expiring-notice.job.js';
import { CreditExpiryJob } from '../src/plans/credit-expiry.job.js';
import { bearer, startTestApp, type TestApp, uniqueId } from './support/app.js';
import { expireAllocationNow } from './support/clock.js';
import { Fixtures, tokenFor } from './support/fixtures.js';
import { type OwnDatabase, ownDatabase } from './support/own-database.js';

/**
 * Every movement's event names its account the same way, whoever made it (docs/webhooks.md "Events"):
 * a user's as `{userId}`, an organisation's as `{userId: null, orgId}`. Each flow runs on a user and
 * on an org, through its real route or job, and each event's type and data are checked exactly.
 * Its own database: the expiry jobs work on every due allocation there is.
 */
const STRIPE_SECRET = 'whsec_test_movement_events_0123456789abcdef';
const THRESHOLD = 50;
const HOUR = 3_600_000;

type Account = { kind: 'user'; userId: string } | { kind: 'org'; orgId: string };

/** How an event of the account names it. */
const named = (a: Account) => (a.kind === 'user' ? { userId: a.userId } : { userId: null, orgId: a.orgId });
/** How a request body names the account. */
const owner = (a: Account) => (a.kind === 'user' ? { userId: a.userId } : { orgId: a.orgId });

interface Told {
  type: string;
  user_id: string | null;
  data: Record<string, unknown>;
}

describe('the events of movements, for a user and for an organisation', () => {
  let own: OwnDatabase;
  let t: TestApp;
  let f: Fixtures;
  const admin = bearer(tokenFor('admin', 'movement-events-admin'));
  const seen = new Set<string>();

  beforeAll(async () => {
    own = await ownDatabase('movement_events');
    t = await startTestApp({
      DATABASE_URL: own.url,
      LOW_BALANCE_THRESHOLDS: String(THRESHOLD),
      STRIPE_WEBHOOK_SECRET: STRIPE_SECRET,
    });
    f = new Fixtures(t, { prefix: 'me' });
  });
  afterAll(async () => {
    await t?.close();
    await own?.drop();
  });

  async function newAccount(kind: Account['kind']): Promise<Account> {
    const user = await f.newUser();
    if (kind === 'user') return { kind, userId: user.id };
    const orgId = uniqueId('me-org');
    await t.http
      .post('/api/orgs')
      .set(admin)
      .send({ orgId, name: 'Movement events', ownerUserId: user.id })
      .expect(201);
    return { kind, orgId };
  }

  /** The account's events not returned before, by type (one movement's come in one transaction). */
  async function told(a: Account): Promise<Told[]> {
    const { rows } = await t.db.query<Told & { id: string }>(
      a.kind === 'user'
        ? `SELECT id, type, user_id, data FROM events WHERE data->>'userId' = $1 AND data->>'orgId' IS NULL`
        : `SELECT id, type, user_id, data FROM events WHERE data->>'orgId' = $1`,
      [a.kind === 'user' ? a.userId : a.orgId],
    );
    const fresh = rows.filter((r) => !seen.has(r.id));
    for (const r of fresh) seen.add(r.id);
    return fresh
      .map(({ type, user_id, data }) => ({ type, user_id, data }))
      .sort((x, y) => x.type.localeCompare(y.type) || JSON.stringify(x.data).localeCompare(JSON.stringify(y.data)));
  }

  /** An event of the account as the outbox holds it: `user_id` is the account's user (null for an org). */
  const event = (a: Account, type: string, data: Record<string, unknown>): Told => ({
    type,
    user_id: a.kind === 'user' ? a.userId : null,
    data: { ...named(a), ...data },
  });

  async function allocate(a: Account, credits: number, extra: Record<string, unknown> = {}) {
    const res = await t.http
      .post('/api/credits/allocate')
      .set(admin)
      .send({ ...owner(a), credits, ...extra });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body as { id: string; expiresAt: string };
  }

  const transfer = async (from: Account, to: Account, credits: number) =>
    (
      await t.http
        .post('/api/credits/transfers')
        .set(admin)
        .send({ from: owner(from), to: owner(to), credits })
        .expect(201)
    ).body as { lots: { toAllocationId: string; credits: number; expiresAt: string }[] };

  const expiresAt = async (allocationId: string) =>
    (
      (await t.db.query(`SELECT expires_at FROM credit_allocations WHERE id = $1`, [allocationId])).rows[0]
        .expires_at as Date
    ).toISOString();

  /** Posts a Stripe event signed as Stripe signs it. */
  function deliverStripe(type: string, object: Record<string, unknown>) {
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
    const header = Stripe.webhooks.generateTestHeaderString({ payload, secret: STRIPE_SECRET });
    return t.http
      .post('/api/payments/stripe/webhook')
      .set('Content-Type', 'application/json; charset=utf-8')
      .set('Stripe-Signature', header)
      .send(payload);
  }

  describe.each(['user', 'org'] as const)('on a %s account', (kind) => {
    it('a grant tells credits.granted; its void tells the balance alerts it crosses', async () => {
      const a = await newAccount(kind);
      const granted = await allocate(a, 80);
      expect(await told(a)).toStrictEqual([
        event(a, 'credits.granted', {
          allocationId: granted.id,
          credits: 80,
          expiresAt: granted.expiresAt,
          source: 'manual',
        }),
      ]);

      await t.http.post(`/api/credits/allocations/${granted.id}/void`).set(admin).send({}).expect(200);
      expect(await told(a)).toStrictEqual([
        event(a, 'balance.depleted', {}),
        event(a, 'balance.low', { threshold: THRESHOLD, balance: 0 }),
      ]);
    });

    it('a transfer tells credits.granted on the receiving side and the balance alerts on the giving side', async () => {
      const a = await newAccount(kind);
      const peer = await newAccount('user');
      await allocate(peer, 100);
      await told(peer);

      const into = await transfer(peer, a, 60);
      expect(into.lots).toHaveLength(1);
      expect(await told(a)).toStrictEqual([
        event(a, 'credits.granted', {
          allocationId: into.lots[0].toAllocationId,
          credits: 60,
          expiresAt: into.lots[0].expiresAt,
          source: 'transfer',
        }),
      ]);
      expect(await told(peer)).toStrictEqual([event(peer, 'balance.low', { threshold: THRESHOLD, balance: 40 })]);

      const back = await transfer(a, peer, 60);
      expect(await told(a)).toStrictEqual([
        event(a, 'balance.depleted', {}),
        event(a, 'balance.low', { threshold: THRESHOLD, balance: 0 }),
      ]);
      expect(await told(peer)).toStrictEqual([
        event(peer, 'credits.granted', {
          allocationId: back.lots[0].toAllocationId,
          credits: 60,
          expiresAt: back.lots[0].expiresAt,
          source: 'transfer',
        }),
      ]);
    });

    it('a purchase paid through Stripe tells credits.granted beside purchase.paid', async () => {
      const a = await newAccount(kind);
      const created = await t.http
        .post('/api/purchases')
        .set(admin)
        .send({ ...owner(a), credits: 1000, amount: '10.00', currency: 'usd', provider: 'stripe' })
        .expect(201);
      const purchaseId = created.body.id as string;
      const paid = await deliverStripe('checkout.session.completed', {
        id: uniqueId('cs_test_'),
        object: 'checkout.session',
        amount_total: 1000,
        client_reference_id: purchaseId,
        currency: 'usd',
        metadata: {},
        mode: 'payment',
        payment_intent: uniqueId('pi_'),
        payment_status: 'paid',
        status: 'complete',
      }).expect(200);
      expect(paid.body).toEqual({ received: true, outcome: 'applied' });
      const purchase = (await t.http.get(`/api/purchases/${purchaseId}`).set(admin).expect(200)).body;
      expect(purchase.status).toBe('paid');

      expect(await told(a)).toStrictEqual([
        event(a, 'credits.granted', {
          allocationId: purchase.allocationId,
          credits: 1000,
          expiresAt: await expiresAt(purchase.allocationId),
          source: 'purchase',
        }),
        // purchase.paid names the account as every event does (docs/webhooks.md).
        event(a, 'purchase.paid', {
          purchaseId,
          allocationId: purchase.allocationId,
          credits: 1000,
          expiresAt: await expiresAt(purchase.allocationId),
          amount: '10.00',
          currency: 'usd',
        }),
      ]);
    });

    it('the expiry jobs tell credits.expiring, then credits.expired with the alerts of what expired', async () => {
      const a = await newAccount(kind);
      const granted = await allocate(a, 30, { expiresAt: new Date(Date.now() + 48 * HOUR).toISOString() });
      await told(a);
      // As if 36 of its 48 hours had passed: within the 24-hour lead time, and made before it.
      await t.db.query(
        `UPDATE credit_allocations SET expires_at = expires_at - interval '36 hours',
                allocated_at = allocated_at - interval '36 hours' WHERE id = $1`,
        [granted.id],
      );
      await t.app.get(CreditExpiringNoticeJob).noticeExpiring();
      expect(await told(a)).toStrictEqual([
        event(a, 'credits.expiring', {
          allocationId: granted.id,
          remainingCredits: 30,
          expiresAt: await expiresAt(granted.id),
          leadHours: 24,
        }),
      ]);

      await expireAllocationNow(t.db, granted.id);
      await t.app.get(CreditExpiryJob).expireDue();
      expect(await told(a)).toStrictEqual([
        event(a, 'balance.depleted', {}),
        event(a, 'credits.expired', { allocationId: granted.id, credits: 30 }),
      ]);
    });
  });
});
