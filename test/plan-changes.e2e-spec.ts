import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { SubscriptionRenewalJob } from '../src/plans/subscription-renewal.job.js';
import { startTestApp, type TestApp, uniqueId } from './support/app.js';
import { passTime } from './support/clock.js';
import { Fixtures, principal } from './support/fixtures.js';
import { expectInvariants } from './support/invariants.js';

/**
 * Plan changes never mint credits (docs/plans.md): within one period, whatever PUTs and DELETEs of
 * /api/users/:userId/subscription happen, the plan allocations granted total at most the largest
 * `credits` among the plans held. An upgrade grants the difference at once; a downgrade, or the
 * same plan again after a DELETE, grants nothing more until the next period, which grants in full.
 */
const DAY = 86_400_000;

describe('plan changes never mint credits', () => {
  let t: TestApp;
  let f: Fixtures;
  const users: string[] = [];
  const admin = principal('admin', 'pc-admin');
  const supervisor = principal('supervisor', 'pc-supervisor');
  const plans: Record<string, { id: string; credits: number }> = {};

  async function newPlan(name: string, credits: number, period: 'day' | 'week' | 'month') {
    const id = uniqueId(`pc-${name}`).toLowerCase();
    await t.http.post('/api/plans').set(admin.auth).send({ id, name, credits, period }).expect(201);
    plans[name] = { id, credits };
    return plans[name];
  }

  beforeAll(async () => {
    t = await startTestApp();
    f = new Fixtures(t, { users, prefix: 'pc' });
    // The daily pair the attack used (Pro 5,000, Free 100), and plans of other lengths and sizes.
    await newPlan('pro', 5000, 'day');
    await newPlan('free', 100, 'day');
    await newPlan('team', 20_000, 'week');
    await newPlan('mini', 1, 'month');
    await newPlan('plus', 700, 'month');
  });
  afterAll(async () => {
    await expectInvariants(t, users);
    await t.close();
  });

  const put = (userId: string, plan: string, extra: Record<string, unknown> = {}) =>
    t.http
      .put(`/api/users/${userId}/subscription`)
      .set(supervisor.auth)
      .send({ planId: plans[plan].id, ...extra });
  const del = (userId: string) => t.http.delete(`/api/users/${userId}/subscription`).set(supervisor.auth);
  const renew = () => t.app.get(SubscriptionRenewalJob).run();

  /** The user's plan allocations, oldest first. */
  async function planGrants(userId: string) {
    const { rows } = await t.db.query(
      `SELECT plan_id, total_credits, period_start, expires_at FROM credit_allocations
        WHERE account_id = (SELECT account_id FROM accounts WHERE user_id = $1) AND source = 'plan' ORDER BY allocated_at, id`,
      [userId],
    );
    return rows as { plan_id: string; total_credits: number; period_start: Date; expires_at: Date }[];
  }
  const granted = async (userId: string) => (await planGrants(userId)).reduce((n, a) => n + a.total_credits, 0);

  it('the attack: Pro → Free → Pro → Free → Pro, DELETE, PUT Pro grants one Pro allowance in one allocation', async () => {
    const { id: userId } = await f.newUser();
    const answers = [];
    for (const plan of ['pro', 'free', 'pro', 'free', 'pro']) answers.push(await put(userId, plan));
    answers.push(await del(userId));
    answers.push(await put(userId, 'pro'));
    expect(answers.map((r) => r.status)).toEqual(Array(7).fill(200));
    expect(await planGrants(userId)).toEqual([expect.objectContaining({ plan_id: plans.pro.id, total_credits: 5000 })]);
    // Every subscription of the sequence kept the first one's period.
    expect(new Set(answers.map((r) => r.body.startsAt)).size).toBe(1);
    expect(new Set(answers.map((r) => r.body.currentPeriodEnd)).size).toBe(1);
    expect(answers[6].body.nextGrantAt).toBe(answers[0].body.currentPeriodEnd);
  });

  it('an upgrade grants the difference at once, expiring with the period', async () => {
    const { id: userId } = await f.newUser();
    const first = await put(userId, 'free').expect(200);
    const upgraded = await put(userId, 'pro').expect(200);
    expect(upgraded.body).toMatchObject({
      startsAt: first.body.startsAt,
      currentPeriodEnd: first.body.currentPeriodEnd,
    });
    const grants = await planGrants(userId);
    expect(grants.map((a) => [a.plan_id, a.total_credits])).toEqual([
      [plans.free.id, 100],
      [plans.pro.id, 4900],
    ]);
    expect(grants[1].expires_at.toISOString()).toBe(first.body.currentPeriodEnd);
    expect(grants[1].period_start.toISOString()).toBe(first.body.currentPeriodStart);
    expect(await f.available(userId)).toBe(5000);
  });

  it('a downgrade, then the upgrade back, grants nothing more', async () => {
    const { id: userId } = await f.newUser();
    await put(userId, 'pro').expect(200);
    await put(userId, 'free').expect(200);
    await put(userId, 'pro').expect(200);
    expect((await planGrants(userId)).map((a) => a.total_credits)).toEqual([5000]);
  });

  it('DELETE then PUT of the same plan grants nothing more and keeps the period', async () => {
    const { id: userId } = await f.newUser();
    const first = await put(userId, 'pro').expect(200);
    await del(userId).expect(200);
    const again = await put(userId, 'pro').expect(200);
    expect(again.body).toEqual(first.body);
    expect((await planGrants(userId)).map((a) => a.total_credits)).toEqual([5000]);
  });

  it('the next period grants the plan held in full, and its upgrades the difference again', async () => {
    const { id: userId } = await f.newUser();
    for (const plan of ['pro', 'free', 'pro', 'free']) await put(userId, plan).expect(200);
    await passTime(t.db, userId, DAY + 60_000);
    await renew();
    expect((await planGrants(userId)).map((a) => [a.plan_id, a.total_credits])).toEqual([
      [plans.pro.id, 5000],
      [plans.free.id, 100],
    ]);
    await put(userId, 'pro').expect(200);
    await put(userId, 'free').expect(200);
    expect((await planGrants(userId)).map((a) => a.total_credits)).toEqual([5000, 100, 4900]);
  });

  it('re-subscribing after a period without a subscription grants in full', async () => {
    const { id: userId } = await f.newUser();
    await put(userId, 'pro').expect(200);
    await del(userId).expect(200);
    await passTime(t.db, userId, DAY + 60_000);
    await renew();
    expect(await planGrants(userId)).toHaveLength(1);
    await put(userId, 'pro').expect(200);
    expect((await planGrants(userId)).map((a) => a.total_credits)).toEqual([5000, 5000]);
  });

  it('a change starting later grants, at its start, only what the allowance still in force lacks', async () => {
    const { id: userId } = await f.newUser();
    await put(userId, 'free').expect(200);
    const startsAt = new Date(Date.now() + 3_600_000).toISOString();
    const later = await put(userId, 'pro', { startsAt }).expect(200);
    expect(later.body).toMatchObject({ startsAt, currentPeriodStart: null });
    await passTime(t.db, userId, 3_600_000 + 1000);
    await renew();
    // Free's 100 of today are still in force when Pro's first period starts.
    expect((await planGrants(userId)).map((a) => a.total_credits)).toEqual([100, 4900]);
  });

  const ops = fc.array(
    fc.oneof(
      fc.constantFrom('pro', 'free', 'team', 'mini', 'plus').map((plan) => ({ put: plan })),
      fc.constant({ put: null }),
    ),
    { minLength: 1, maxLength: 12 },
  );

  /** What one PUT (plan) or DELETE (null) answered. */
  const send = (userId: string, plan: string | null) => (plan === null ? del(userId) : put(userId, plan));

  /** The bound, exactly: what was granted is the largest allowance among the plans PUT answered 200 for. */
  async function expectBound(userId: string, held: string[]) {
    const largest = Math.max(0, ...held.map((plan) => plans[plan].credits));
    expect(await granted(userId)).toBe(largest);
  }

  it('property: any PUT/DELETE sequence in a period grants the largest allowance held, no more', async () => {
    await fc.assert(
      fc.asyncProperty(ops, async (sequence) => {
        const { id: userId } = await f.newUser();
        const held: string[] = [];
        for (const op of sequence) {
          const res = await send(userId, op.put);
          expect([200, 404]).toContain(res.status);
          if (op.put !== null) {
            expect(res.status).toBe(200);
            held.push(op.put);
          }
        }
        await expectBound(userId, held);
      }),
      { numRuns: 40 },
    );
  });

  it('20 random PUTs and DELETEs fired in parallel for one user stay within the bound', async () => {
    const [sequence] = fc.sample(
      fc.array(fc.oneof(fc.constantFrom('pro', 'free', 'team', 'mini', 'plus'), fc.constant(null)), {
        minLength: 20,
        maxLength: 20,
      }),
      { numRuns: 1, seed: 20_200 },
    );
    for (const round of [sequence, [...Array(10).fill('team'), ...Array(10).fill(null)]]) {
      const { id: userId } = await f.newUser();
      const answers = await Promise.all(round.map((plan) => send(userId, plan)));
      expect(answers.map((r) => r.status).filter((s) => s !== 200 && s !== 404)).toEqual([]);
      const held = round.filter((plan, i): plan is string => plan !== null && answers[i].status === 200);
      expect(held.length).toBe(round.filter((plan) => plan !== null).length);
      await expectBound(userId, held);
      const { rows } = await t.db.query(
        `SELECT count(*)::int AS n FROM subscriptions WHERE user_id = $1 AND ended_at IS NULL`,
        [userId],
      );
      expect(rows[0].n).toBeLessThanOrEqual(1);
      await expectInvariants(t, [userId]);
    }
  });
});
