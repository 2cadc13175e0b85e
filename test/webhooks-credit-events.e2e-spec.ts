import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { CreditExpiringNoticeJob } from '../src/credits/notices/credit-expiring-notice.job.js';
import { CreditExpiryJob } from '../src/plans/credit-expiry.job.js';
import { SubscriptionRenewalJob } from '../src/plans/subscription-renewal.job.js';
import { bearer, startTestApp, type TestApp, token, uniqueId } from './support/app.js';
import { expireAllocationNow, passTime } from './support/clock.js';
import { type OwnDatabase, ownDatabase } from './support/own-database.js';
import { WebhookReceiver } from './support/webhook-receiver.js';

/**
 * The credit events, each triggered by its real flow and delivered to a receiver on 127.0.0.1 by the
 * app's own worker: credits.granted (every source), balance.low and balance.depleted, credits.expiring,
 * credits.expired, usage.needs_review, api_key.limit_reached, subscription.renewed; and how every event
 * names its account, a user's and an organisation's (purchases, auto-recharge).
 */
const admin = () => bearer(token({ sub: 'events-admin', role: 'admin' }));
const DAY = 86_400_000;
const METRICS_TOKEN = 'credit-events-metrics-token-0123456789';

describe('credit events over webhooks', () => {
  let own: OwnDatabase;
  let t: TestApp;
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    own = await ownDatabase('wh_credit_events');
    receiver = await WebhookReceiver.start();
    t = await startTestApp({
      DATABASE_URL: own.url,
      WEBHOOK_WORKER_ENABLED: 'true',
      LOW_BALANCE_THRESHOLDS: '50',
      METRICS_TOKEN: METRICS_TOKEN,
    });
    const res = await t.http
      .post('/api/webhooks')
      .set(admin())
      .send({ url: receiver.url('/credits'), events: ['*'] });
    expect(res.status).toBe(201);
  });
  afterAll(async () => {
    await t?.close();
    await receiver?.close();
    await own?.drop();
  });

  async function newUser(credits = 0, extra: Record<string, unknown> = {}) {
    const userId = uniqueId('ev');
    await t.http
      .get('/api/users/me')
      .set(bearer(token({ sub: userId })))
      .expect(200);
    let allocationId: string | null = null;
    if (credits > 0) {
      const res = await t.http
        .post('/api/credits/allocate')
        .set(admin())
        .send({ userId, credits, ...extra })
        .expect(201);
      allocationId = res.body.id as string;
    }
    return { userId, allocationId, auth: bearer(token({ sub: userId })) };
  }

  const record = (auth: Record<string, string>, credits: number) =>
    t.http.post('/api/usage/record').set(auth).send({ service: 'chat', operation: 'completion', credits });

  it('credits.granted, balance.low and balance.depleted from a grant and two records', async () => {
    const u = await newUser(80);
    const granted = await receiver.waitForEvent('credits.granted', { userId: u.userId });
    expect(granted.event.data).toMatchObject({ allocationId: u.allocationId, credits: 80, source: 'manual' });
    expect(new Date(granted.event.data.expiresAt as string).toISOString()).toBe(granted.event.data.expiresAt);
    await record(u.auth, 40).expect(201);
    const low = await receiver.waitForEvent('balance.low', { userId: u.userId });
    expect(low.event.data).toEqual({ userId: u.userId, threshold: 50, balance: 40 });
    await record(u.auth, 40).expect(201);
    await receiver.waitForEvent('balance.depleted', { userId: u.userId });
  });

  it('a refused record (402) emits nothing', async () => {
    const u = await newUser(60);
    await receiver.waitForEvent('credits.granted', { userId: u.userId });
    expect((await record(u.auth, 61)).status).toBe(402);
    const { rows } = await t.db.query(`SELECT type FROM events WHERE user_id = $1 ORDER BY created_at`, [u.userId]);
    expect(rows.map((r: { type: string }) => r.type)).toEqual(['credits.granted']);
  });

  it('credits.expiring once per lead time of CREDITS_EXPIRING_NOTICE_HOURS; credits.expired when it expires', async () => {
    // Made 2 days before it expires (the 168-hour notice was past already), then 12 hours before.
    const u = await newUser(30, { expiresAt: new Date(Date.now() + 2 * DAY).toISOString() });
    await passTime(t.db, u.userId, 1.5 * DAY);
    const { rows: lot } = await t.db.query(`SELECT expires_at FROM credit_allocations WHERE id = $1`, [u.allocationId]);
    const soon = (lot[0].expires_at as Date).toISOString();
    const far = await newUser(30, { expiryDays: 365 });
    const notices = t.app.get(CreditExpiringNoticeJob);
    await notices.noticeExpiring();
    await notices.noticeExpiring();
    const expiring = await receiver.waitForEvent('credits.expiring', { userId: u.userId });
    expect(expiring.event.data).toEqual({
      userId: u.userId,
      allocationId: u.allocationId,
      remainingCredits: 30,
      expiresAt: soon,
      leadHours: 24,
    });
    const { rows } = await t.db.query(
      `SELECT user_id, count(*)::int AS n FROM events WHERE type = 'credits.expiring' AND user_id = ANY($1) GROUP BY user_id`,
      [[u.userId, far.userId]],
    );
    expect(rows).toEqual([{ user_id: u.userId, n: 1 }]);

    await expireAllocationNow(t.db, u.allocationId!);
    await t.app.get(CreditExpiryJob).expireDue();
    const expired = await receiver.waitForEvent('credits.expired', { userId: u.userId });
    expect(expired.event.data).toEqual({ userId: u.userId, allocationId: u.allocationId, credits: 30 });
  });

  it('usage.needs_review from a settlement the balance could not cover', async () => {
    const u = await newUser(2);
    const init = await t.http
      .post('/api/streaming-sessions/initialize')
      .set(u.auth)
      .send({ modelId: 'anthropic.claude-instant-v1', estimatedTokens: 1000 })
      .expect(201);
    await t.http
      .post('/api/streaming-sessions/finalize')
      .set(u.auth)
      .send({ sessionId: init.body.sessionId, actualTokens: 10_000 })
      .expect(200);
    const review = await receiver.waitForEvent('usage.needs_review', { userId: u.userId });
    expect(review.event.data).toMatchObject({ shortfall: 6 });
  });

  it('api_key.limit_reached when a key spends its budget', async () => {
    const u = await newUser(100);
    const key = await t.http
      .post('/api/api-keys')
      .set(u.auth)
      .send({ name: 'agent', creditLimit: 10, limitPeriod: 'day' })
      .expect(201);
    await t.http
      .post('/api/usage/record')
      .set('X-API-Key', key.body.key)
      .send({ service: 's', operation: 'o', credits: 10 })
      .expect(201);
    const reached = await receiver.waitForEvent('api_key.limit_reached', { userId: u.userId });
    expect(reached.event.data).toEqual({
      userId: u.userId,
      apiKeyId: key.body.id,
      creditLimit: 10,
      limitPeriod: 'day',
    });
  });

  it('an organisation is named {userId: null, orgId} and a user {userId} by every event: purchases, auto-recharge', async () => {
    const owner = await newUser();
    const orgId = uniqueId('evorg').toLowerCase();
    await t.http.post('/api/orgs').set(admin()).send({ orgId, name: 'Events', ownerUserId: owner.userId }).expect(201);
    await t.http.post('/api/credits/allocate').set(admin()).send({ orgId, credits: 100 }).expect(201);
    await t.http
      .put('/api/credits/auto-recharge')
      .set(admin())
      .send({ orgId, enabled: true, belowCredits: 50, rechargeCredits: 200 })
      .expect(200);
    await t.http
      .post('/api/usage/record')
      .set(admin())
      .send({ userId: owner.userId, orgId, service: 's', operation: 'o', credits: 60 })
      .expect(201);
    const requested = await receiver.waitForEvent('auto_recharge.requested', { orgId });
    expect(requested.event.data).toEqual({
      userId: null,
      orgId,
      attemptId: requested.event.data.attemptId,
      credits: 200,
    });
    const buy = async (account: Record<string, string>) => {
      const made = await t.http
        .post('/api/purchases')
        .set(admin())
        .send({ ...account, credits: 200, amount: '2.00', currency: 'usd', provider: 'test' })
        .expect(201);
      return (await t.http.post(`/api/purchases/${made.body.id}/paid`).set(admin()).send({}).expect(200)).body as {
        id: string;
        allocationId: string;
      };
    };
    const forOrg = await buy({ orgId });
    const orgPaid = await receiver.waitForEvent('purchase.paid', { purchaseId: forOrg.id });
    expect(orgPaid.event.data).toMatchObject({ userId: null, orgId, allocationId: forOrg.allocationId });
    const forUser = await buy({ userId: owner.userId });
    const userPaid = await receiver.waitForEvent('purchase.paid', { purchaseId: forUser.id });
    expect(userPaid.event.data).toMatchObject({ userId: owner.userId, allocationId: forUser.allocationId });
    expect(userPaid.event.data).not.toHaveProperty('orgId');
  });

  it('metrics count the deliveries and the credits moved, by kind', async () => {
    const u = await newUser(30);
    await record(u.auth, 7).expect(201);
    await receiver.waitForEvent('credits.granted', { userId: u.userId });
    const res = await t.http.get('/metrics').set('Authorization', `Bearer ${METRICS_TOKEN}`).expect(200);
    const value = (line: RegExp) => Number(line.exec(res.text)?.[1] ?? NaN);
    expect(value(/^accounting_webhook_deliveries_total\{result="succeeded"\} (\d+)/m)).toBeGreaterThan(0);
    expect(value(/^accounting_credits_total\{kind="grant"\} (\d+)/m)).toBeGreaterThanOrEqual(30);
    expect(value(/^accounting_credits_total\{kind="debit"\} (\d+)/m)).toBeGreaterThanOrEqual(7);
  });

  it('subscription.renewed and credits.granted (plan, rollover) from a renewal', async () => {
    const planId = uniqueId('p').toLowerCase();
    await t.http
      .post('/api/plans')
      .set(admin())
      .send({ id: planId, name: 'Daily', credits: 20, period: 'day', rolloverCap: 5 })
      .expect(201);
    const u = await newUser();
    await t.http.put(`/api/users/${u.userId}/subscription`).set(admin()).send({ planId }).expect(200);
    await receiver.waitForEvent('credits.granted', { userId: u.userId, source: 'plan' });
    await passTime(t.db, u.userId, DAY + 60_000);
    await t.app.get(SubscriptionRenewalJob).run();
    const renewed = await receiver.waitForEvent('subscription.renewed', { userId: u.userId });
    const rollover = await receiver.waitForEvent('credits.granted', { userId: u.userId, source: 'rollover' });
    expect(rollover.event.data).toMatchObject({ credits: 5 });
    const { rows } = await t.db.query(
      `SELECT id FROM credit_allocations WHERE account_id = (SELECT account_id FROM accounts WHERE user_id = $1) AND source = 'plan' ORDER BY allocated_at DESC LIMIT 1`,
      [u.userId],
    );
    expect(renewed.event.data).toEqual({ userId: u.userId, planId, allocationId: rows[0].id });
  });
});
