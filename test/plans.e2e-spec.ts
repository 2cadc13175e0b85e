import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { CreditExpiryJob } from '../src/plans/credit-expiry.job.js';
import { SubscriptionRenewalJob } from '../src/plans/subscription-renewal.job.js';
import { bearer, startTestApp, type TestApp, token, uniqueId } from './support/app.js';
import { passTime } from './support/clock.js';
import { expectInvariants } from './support/invariants.js';

const admin = () => bearer(token({ sub: 'plans-admin', role: 'admin' }));
const supervisor = () => bearer(token({ sub: 'plans-supervisor', role: 'supervisor' }));
const DAY = 86_400_000;

describe('plans and subscriptions', () => {
  let t: TestApp;
  const users: string[] = [];

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await expectInvariants(t, users);
    await t.close();
  });

  async function newUser(): Promise<string> {
    const userId = uniqueId('plan');
    users.push(userId);
    const res = await t.http.get('/api/users/me').set(bearer(token({ sub: userId })));
    expect(res.status).toBe(200);
    return userId;
  }

  async function newPlan(body: Record<string, unknown> = {}): Promise<string> {
    const id = uniqueId('p').toLowerCase();
    const res = await t.http
      .post('/api/plans')
      .set(admin())
      .send({ id, name: 'Test plan', credits: 100, period: 'day', ...body });
    expect(res.status).toBe(201);
    return id;
  }

  const subscribe = (userId: string, planId: string, extra: Record<string, unknown> = {}) =>
    t.http
      .put(`/api/users/${userId}/subscription`)
      .set(supervisor())
      .send({ planId, ...extra });

  async function allocations(userId: string) {
    const { rows } = await t.db.query(
      `SELECT id, source, plan_id, period_start, total_credits, remaining_credits, expires_at
         FROM credit_allocations WHERE account_id = (SELECT account_id FROM accounts WHERE user_id = $1) ORDER BY allocated_at, id`,
      [userId],
    );
    return rows as {
      id: string;
      source: string;
      plan_id: string | null;
      period_start: Date | null;
      total_credits: number;
      remaining_credits: number;
      expires_at: Date;
    }[];
  }

  const renew = (app: TestApp = t) => app.app.get(SubscriptionRenewalJob).run();

  describe('plans', () => {
    it('admin creates a plan; its id is unique; bad input is a 400 that creates nothing', async () => {
      const id = uniqueId('p').toLowerCase();
      const body = { id, name: 'Pro', credits: 5000, period: 'month', rolloverCap: 1000 };
      const created = await t.http.post('/api/plans').set(admin()).send(body);
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({ ...body, isActive: true });
      expect(new Date(created.body.createdAt).toISOString()).toBe(created.body.createdAt);

      const again = await t.http.post('/api/plans').set(admin()).send(body);
      expect(again.status).toBe(409);

      for (const bad of [
        { ...body, id: 'Upper' },
        { ...body, id: 'x'.repeat(51) },
        { ...body, id: `${id}-2`, credits: 0 },
        { ...body, id: `${id}-3`, period: 'year' },
        { ...body, id: `${id}-4`, rolloverCap: -1 },
        { ...body, id: `${id}-5`, extra: true },
      ]) {
        const res = await t.http.post('/api/plans').set(admin()).send(bad);
        expect(res.status, JSON.stringify(bad)).toBe(400);
      }
      const { rows } = await t.db.query(`SELECT count(*)::int AS n FROM plans WHERE id LIKE $1`, [`${id}%`]);
      expect(rows[0].n).toBe(1);
    });

    it('auth: admin manages plans, supervisors list them, users do neither', async () => {
      const id = await newPlan();
      const user = bearer(token({ sub: uniqueId() }));
      expect(
        (await t.http.post('/api/plans').set(supervisor()).send({ id: 'x', name: 'x', credits: 1, period: 'day' }))
          .status,
      ).toBe(403);
      expect((await t.http.patch(`/api/plans/${id}`).set(supervisor()).send({ name: 'y' })).status).toBe(403);
      expect((await t.http.get('/api/plans').set(user)).status).toBe(403);
      expect((await t.http.get('/api/plans')).status).toBe(401);
      const list = await t.http.get('/api/plans?limit=500').set(supervisor());
      expect(list.status).toBe(200);
      expect(list.body.items.find((p: { id: string }) => p.id === id)).toMatchObject({ id, subscriberCount: 0 });
    });

    it('lists plans by id with cursor paging and live subscriber counts', async () => {
      const id = await newPlan();
      const a = await newUser();
      const b = await newUser();
      expect((await subscribe(a, id)).status).toBe(200);
      expect((await subscribe(b, id)).status).toBe(200);
      await t.http.delete(`/api/users/${b}/subscription`).set(supervisor()).expect(200);

      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const query: string = cursor ? `&cursor=${cursor}` : '';
        const res = await t.http.get(`/api/plans?limit=2${query}`).set(supervisor());
        expect(res.status).toBe(200);
        seen.push(...res.body.items.map((p: { id: string }) => p.id));
        const mine = res.body.items.find((p: { id: string }) => p.id === id);
        if (mine) expect(mine.subscriberCount).toBe(1);
        cursor = res.body.nextCursor;
      } while (cursor);
      expect(seen).toEqual([...seen].sort());
      expect(seen).toContain(id);
      expect((await t.http.get('/api/plans?cursor=bm9wZQ').set(supervisor())).status).toBe(400);
    });

    it('PATCH changes a plan; unknown plan is 404; the next period grants the new amount', async () => {
      const id = await newPlan({ credits: 100 });
      const userId = await newUser();
      await subscribe(userId, id).expect(200);
      const patched = await t.http.patch(`/api/plans/${id}`).set(admin()).send({ credits: 250, name: 'Bigger' });
      expect(patched.status).toBe(200);
      expect(patched.body).toMatchObject({ id, credits: 250, name: 'Bigger' });
      expect((await t.http.patch('/api/plans/nope-nope').set(admin()).send({ credits: 2 })).status).toBe(404);
      expect((await t.http.patch(`/api/plans/${id}`).set(admin()).send({ credits: 0 })).status).toBe(400);

      await passTime(t.db, userId, DAY + 60_000);
      await renew();
      const grants = (await allocations(userId)).filter((a) => a.source === 'plan');
      expect(grants.map((a) => a.total_credits)).toEqual([100, 250]);
    });
  });

  describe('subscriptions', () => {
    it('subscribing grants the current period at once, shown in balance and allocations', async () => {
      const planId = await newPlan({ credits: 120, period: 'week' });
      const userId = await newUser();
      const before = Date.now();
      const res = await subscribe(userId, planId);
      expect(res.status).toBe(200);
      const startsAt = new Date(res.body.startsAt).getTime();
      expect(startsAt).toBeGreaterThanOrEqual(before - 1000);
      expect(res.body).toMatchObject({
        userId,
        planId,
        currentPeriodStart: res.body.startsAt,
        currentPeriodEnd: new Date(startsAt + 7 * DAY).toISOString(),
        nextGrantAt: new Date(startsAt + 7 * DAY).toISOString(),
      });

      const balance = await t.http.get('/api/credits/balance').set(bearer(token({ sub: userId })));
      expect(balance.body.totalCredits).toBe(120);
      expect(balance.body.activeAllocations).toEqual([
        expect.objectContaining({
          credits: 120,
          source: 'plan',
          planId,
          periodStart: res.body.startsAt,
          expiresAt: res.body.currentPeriodEnd,
        }),
      ]);
      const list = await t.http.get('/api/credits/allocations').set(bearer(token({ sub: userId })));
      expect(list.body.items[0]).toMatchObject({ source: 'plan', planId, periodStart: res.body.startsAt });

      const own = await t.http.get(`/api/users/${userId}/subscription`).set(bearer(token({ sub: userId })));
      expect(own.status).toBe(200);
      expect(own.body).toEqual(res.body);
    });

    it('auth matrix: users read only their own; supervisors subscribe and read anyone', async () => {
      const planId = await newPlan();
      const userId = await newUser();
      const other = bearer(token({ sub: uniqueId() }));
      const self = bearer(token({ sub: userId }));
      expect((await t.http.put(`/api/users/${userId}/subscription`).set(self).send({ planId })).status).toBe(403);
      await subscribe(userId, planId).expect(200);
      // Another user's account: not found to whoever may not see it.
      expect((await t.http.get(`/api/users/${userId}/subscription`).set(other)).status).toBe(404);
      expect((await t.http.get(`/api/users/${userId}/subscription`).set(supervisor())).status).toBe(200);
      expect((await t.http.delete(`/api/users/${userId}/subscription`).set(self)).status).toBe(403);
      expect((await t.http.get(`/api/users/${userId}/subscription`)).status).toBe(401);
    });

    it('404 for an unknown user, plan or subscription; 400 for a start in the past', async () => {
      const planId = await newPlan();
      const userId = await newUser();
      expect((await subscribe('nobody-at-all', planId)).status).toBe(404);
      expect((await subscribe(userId, 'no-such-plan')).status).toBe(404);
      expect((await t.http.get(`/api/users/${userId}/subscription`).set(supervisor())).status).toBe(404);
      expect((await t.http.delete(`/api/users/${userId}/subscription`).set(supervisor())).status).toBe(404);
      const past = new Date(Date.now() - 3_600_000).toISOString();
      expect((await subscribe(userId, planId, { startsAt: past })).status).toBe(400);
      expect((await subscribe(userId, planId, { startsAt: 'tomorrow' })).status).toBe(400);
      expect(await allocations(userId)).toEqual([]);
    });

    it('the same plan again changes nothing: no new anchor, no second grant', async () => {
      const planId = await newPlan();
      const userId = await newUser();
      const first = await subscribe(userId, planId);
      const later = new Date(Date.now() + DAY).toISOString();
      const again = await subscribe(userId, planId, { startsAt: later });
      expect(again.status).toBe(200);
      expect(again.body).toEqual(first.body);
      expect(await allocations(userId)).toHaveLength(1);
    });

    it('20 concurrent subscribes grant exactly once', async () => {
      const planId = await newPlan({ credits: 77 });
      const userId = await newUser();
      const answers = await Promise.all(Array.from({ length: 20 }, () => subscribe(userId, planId)));
      expect(answers.map((r) => r.status)).toEqual(Array(20).fill(200));
      expect(new Set(answers.map((r) => r.body.startsAt)).size).toBe(1);
      const grants = await allocations(userId);
      expect(grants).toHaveLength(1);
      expect(grants[0].total_credits).toBe(77);
      const { rows } = await t.db.query(`SELECT count(*)::int AS n FROM subscriptions WHERE user_id = $1`, [userId]);
      expect(rows[0].n).toBe(1);
    });

    it('a future start grants nothing until the period starts, then the job grants it', async () => {
      const planId = await newPlan({ credits: 40 });
      const userId = await newUser();
      const startsAt = new Date(Date.now() + 2 * 3_600_000).toISOString();
      const res = await subscribe(userId, planId, { startsAt });
      expect(res.body).toMatchObject({
        startsAt,
        currentPeriodStart: null,
        currentPeriodEnd: null,
        nextGrantAt: startsAt,
      });
      await renew();
      expect(await allocations(userId)).toEqual([]);

      await passTime(t.db, userId, 2 * 3_600_000 + 1000);
      expect(await renew()).toBeGreaterThanOrEqual(1);
      const grants = await allocations(userId);
      expect(grants).toHaveLength(1);
      expect(grants[0]).toMatchObject({ source: 'plan', total_credits: 40 });
    });

    it('renewal: each new period granted once, even with two instances running the job at once', async () => {
      const planId = await newPlan({ credits: 10 });
      const userId = await newUser();
      await subscribe(userId, planId).expect(200);
      const second = await startTestApp();
      try {
        for (let period = 1; period <= 3; period++) {
          await passTime(t.db, userId, DAY);
          await Promise.all([renew(), renew(second), renew(), renew(second)]);
        }
      } finally {
        await second.close();
      }
      const grants = (await allocations(userId)).filter((a) => a.source === 'plan');
      expect(grants).toHaveLength(4);
      const starts = grants.map((a) => a.period_start!.getTime());
      expect(starts.slice(1).map((s, i) => s - starts[i])).toEqual([DAY, DAY, DAY]);
      for (const a of grants) expect(a.expires_at.getTime() - a.period_start!.getTime()).toBe(DAY);
      const sub = await t.http.get(`/api/users/${userId}/subscription`).set(supervisor());
      expect(new Date(sub.body.nextGrantAt).getTime()).toBe(starts[3] + DAY);
    });

    it('after an outage of three periods only the current period is granted', async () => {
      const planId = await newPlan({ credits: 10 });
      const userId = await newUser();
      const res = await subscribe(userId, planId);
      const anchor = new Date(res.body.startsAt).getTime();
      await passTime(t.db, userId, 3 * DAY + 3_600_000);
      await renew();
      const grants = (await allocations(userId)).filter((a) => a.source === 'plan');
      expect(grants).toHaveLength(2);
      // The rows moved back by the outage; period 3 of the moved anchor is the current one.
      const shiftedAnchor = anchor - (3 * DAY + 3_600_000);
      expect(grants[1].period_start!.getTime()).toBe(shiftedAnchor + 3 * DAY);
      expect(grants[1].expires_at.getTime()).toBeGreaterThan(Date.now());
    });

    it('changing plans replaces the subscription; granted credits keep their expiry; no double grant', async () => {
      const basic = await newPlan({ credits: 10, period: 'month' });
      const pro = await newPlan({ credits: 500, period: 'week' });
      const userId = await newUser();
      await subscribe(userId, basic).expect(200);
      const [first] = await allocations(userId);
      const changed = await subscribe(userId, pro);
      expect(changed.status).toBe(200);
      expect(changed.body.planId).toBe(pro);
      const after = await allocations(userId);
      expect(after).toHaveLength(2);
      expect(after[0]).toMatchObject({ id: first.id, expires_at: first.expires_at, remaining_credits: 10 });
      // The upgrade adds the difference to the 10 already granted in this period (never both whole).
      expect(after[1]).toMatchObject({ plan_id: pro, total_credits: 490 });
      const { rows } = await t.db.query(
        `SELECT plan_id, ended_at IS NOT NULL AS ended FROM subscriptions WHERE user_id = $1 ORDER BY created_at`,
        [userId],
      );
      expect(rows).toEqual([
        { plan_id: basic, ended: true },
        { plan_id: pro, ended: false },
      ]);
    });

    it('a deactivated plan grants nothing further and cannot be subscribed to', async () => {
      const planId = await newPlan({ credits: 10 });
      const userId = await newUser();
      await subscribe(userId, planId).expect(200);
      await t.http.patch(`/api/plans/${planId}`).set(admin()).send({ isActive: false }).expect(200);
      await passTime(t.db, userId, DAY + 60_000);
      await renew();
      expect(await allocations(userId)).toHaveLength(1);
      const sub = await t.http.get(`/api/users/${userId}/subscription`).set(supervisor());
      expect(sub.body.nextGrantAt).toBeNull();
      const other = await newUser();
      expect((await subscribe(other, planId)).status).toBe(409);
      expect(await allocations(other)).toEqual([]);
    });

    it('DELETE ends the subscription: no further grants, granted credits stay', async () => {
      const planId = await newPlan({ credits: 10 });
      const userId = await newUser();
      await subscribe(userId, planId).expect(200);
      const ended = await t.http.delete(`/api/users/${userId}/subscription`).set(supervisor());
      expect(ended.status).toBe(200);
      expect(ended.body).toMatchObject({ planId, nextGrantAt: null });
      await passTime(t.db, userId, DAY + 60_000);
      await renew();
      const grants = await allocations(userId);
      expect(grants).toHaveLength(1);
      expect(grants[0].remaining_credits).toBe(10);
    });
  });

  describe('rollover', () => {
    async function spend(userId: string, credits: number) {
      const res = await t.http
        .post('/api/usage/record')
        .set(bearer(token({ sub: userId })))
        .send({ service: 'chat', operation: 'completion', credits });
      expect(res.status).toBe(201);
    }

    async function rolledOver(cap: number, spent: number) {
      const planId = await newPlan({ credits: 100, rolloverCap: cap });
      const userId = await newUser();
      await subscribe(userId, planId).expect(200);
      await spend(userId, spent);
      await passTime(t.db, userId, DAY + 60_000);
      await renew();
      await t.app.get(CreditExpiryJob).expireDue();
      const rows = await allocations(userId);
      const { rows: ledger } = await t.db.query(
        `SELECT kind, amount, allocation_id FROM credit_ledger WHERE member_id = $1 ORDER BY id`,
        [userId],
      );
      return { userId, rows, ledger: ledger as { kind: string; amount: number; allocation_id: string }[] };
    }

    it('moves up to the cap of what the period left into the next period; the rest expires', async () => {
      const { rows, ledger } = await rolledOver(30, 50);
      const [old, rollover, fresh] = rows;
      expect(rows.map((r) => r.source)).toEqual(['plan', 'rollover', 'plan']);
      expect(rollover).toMatchObject({ total_credits: 30, remaining_credits: 30, expires_at: fresh.expires_at });
      expect(rollover.period_start).toEqual(fresh.period_start);
      expect(old.remaining_credits).toBe(0);
      expect(ledger.filter((l) => l.allocation_id === old.id).map((l) => [l.kind, l.amount])).toEqual([
        ['grant', 100],
        ['debit', -50],
        ['rollover', -30],
        ['expire', -20],
      ]);
      expect(ledger.filter((l) => l.allocation_id === rollover.id).map((l) => [l.kind, l.amount])).toEqual([
        ['grant', 30],
      ]);
    });

    it('moves everything left when it is under the cap, and nothing without a cap', async () => {
      const under = await rolledOver(1000, 90);
      expect(under.rows.map((r) => [r.source, r.total_credits])).toEqual([
        ['plan', 100],
        ['rollover', 10],
        ['plan', 100],
      ]);
      const none = await rolledOver(0, 90);
      expect(none.rows.map((r) => r.source)).toEqual(['plan', 'plan']);
      // The expiry waits for the renewal, which found nothing to roll over.
      expect(none.ledger.map((l) => l.kind)).toEqual(['grant', 'debit', 'grant', 'expire']);
    });

    it('rollover credits are spent first (they were granted first, expiring with the new period)', async () => {
      const { userId, rows } = await rolledOver(30, 50);
      await spend(userId, 40);
      const after = await allocations(userId);
      expect(after.find((r) => r.id === rows[1].id)!.remaining_credits).toBe(0);
      expect(after.find((r) => r.id === rows[2].id)!.remaining_credits).toBe(90);
    });

    it('the expiry job does not expire a plan period before its renewal could roll it over', async () => {
      const planId = await newPlan({ credits: 100, rolloverCap: 100 });
      const userId = await newUser();
      await subscribe(userId, planId).expect(200);
      await passTime(t.db, userId, DAY + 60_000);
      // Hold the user's account lock so the scheduler's own renewal run cannot slip in here.
      const blocker = await t.db.connect();
      try {
        await blocker.query('BEGIN');
        await blocker.query('SELECT 1 FROM user_accounts WHERE user_id = $1 FOR UPDATE', [userId]);
        await t.app.get(CreditExpiryJob).expireDue();
        expect((await allocations(userId))[0].remaining_credits).toBe(100);
      } finally {
        await blocker.query('ROLLBACK');
        blocker.release();
      }
      await renew();
      expect((await allocations(userId)).map((r) => [r.source, r.remaining_credits])).toEqual([
        ['plan', 0],
        ['rollover', 100],
        ['plan', 100],
      ]);
    });

    it('only the period a due renewal follows waits: an ended subscription’s and an older period’s expire', async () => {
      const planId = await newPlan({ credits: 100, rolloverCap: 0 });
      const ended = await newUser();
      await subscribe(ended, planId).expect(200);
      await t.http.delete(`/api/users/${ended}/subscription`).set(supervisor()).expect(200);
      const behind = await newUser();
      await subscribe(behind, planId).expect(200);
      await passTime(t.db, behind, DAY + 60_000);
      await renew();
      // Periods 0 and 1 are both over now, and period 2's renewal is due: period 1 waits for it.
      await Promise.all([passTime(t.db, ended, DAY + 60_000), passTime(t.db, behind, DAY)]);
      // Hold the live subscription's row so the scheduler's renewal run skips it here (NO KEY UPDATE:
      // the expiry's writes to its allocations still check their foreign key to it).
      const blocker = await t.db.connect();
      try {
        await blocker.query('BEGIN');
        await blocker.query('SELECT 1 FROM subscriptions WHERE user_id = $1 AND ended_at IS NULL FOR NO KEY UPDATE', [
          behind,
        ]);
        await t.app.get(CreditExpiryJob).expireDue();
        expect((await allocations(ended)).map((r) => [r.source, r.remaining_credits])).toEqual([['plan', 0]]);
        expect((await allocations(behind)).map((r) => [r.source, r.remaining_credits])).toEqual([
          ['plan', 0],
          ['plan', 100],
        ]);
      } finally {
        await blocker.query('ROLLBACK');
        blocker.release();
      }
    });
  });

  it('invariants and reconcile hold after plan grants, rollovers, debits, holds and expiry', async () => {
    const planId = await newPlan({ credits: 50, rolloverCap: 20 });
    const mixed = await Promise.all(Array.from({ length: 4 }, () => newUser()));
    await Promise.all(mixed.map((u) => subscribe(u, planId).expect(200)));
    for (let round = 0; round < 3; round++) {
      await Promise.all(
        mixed.flatMap((u) => [
          t.http
            .post('/api/usage/record')
            .set(bearer(token({ sub: u })))
            .send({ service: 'chat', operation: 'x', credits: 7 }),
          t.http
            .post('/api/streaming-sessions/initialize')
            .set(bearer(token({ sub: u })))
            .send({ modelId: 'anthropic.claude-instant-v1', estimatedTokens: 5000 }),
        ]),
      );
      await Promise.all(mixed.map((u) => passTime(t.db, u, DAY)));
      await Promise.all([renew(), t.app.get(CreditExpiryJob).expireDue()]);
    }
    await expectInvariants(t, mixed);
  });
});
