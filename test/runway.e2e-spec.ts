import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { CLOCK, type Clock } from '../src/common/clock.js';
import { bearer, startTestApp, type TestApp, uniqueId } from './support/app.js';
import { Fixtures, type FixtureUser, tokenFor } from './support/fixtures.js';

const admin = bearer(tokenFor('admin', 'runway-admin'));
const DAY = 86_400_000;

/**
 * GET /api/credits/runway against hand-computed fixtures. Each test writes its rows, then stops the
 * app's clock just after them and asks as of that instant, so every figure below is exact: 140
 * credits of usage over the default 14 days is a burn of 10 a day.
 */
describe('runway: the day an account’s credits run out', () => {
  let t: TestApp;
  let f: Fixtures;
  let clock: Clock;
  let wall: () => number;

  beforeAll(async () => {
    t = await startTestApp({ JOBS_ENABLED: 'false' });
    f = new Fixtures(t, { granter: tokenFor('admin', 'runway-granter'), prefix: 'runway' });
    clock = t.app.get<Clock>(CLOCK);
    wall = clock.now.bind(clock);
  });
  afterEach(() => {
    clock.now = wall;
  });
  afterAll(() => t.close());

  /** Stops the app's clock just after everything written so far; answers that instant. */
  const settle = (): number => {
    const at = Date.now() + 2;
    clock.now = () => at;
    return at;
  };
  const runway = (auth: Record<string, string>, query: Record<string, string | number> = {}) =>
    t.http.get('/api/credits/runway').set(auth).query(query);
  /** Sets when the user's allocations expire, in grant order, as days after `base`. */
  const expireAt = async (u: FixtureUser, base: number, days: number[]) => {
    for (const [i, d] of days.entries())
      await t.db.query(`UPDATE credit_allocations SET expires_at = $2 WHERE id = $1`, [
        u.allocationIds[i],
        new Date(base + d * DAY),
      ]);
  };
  const iso = (ms: number) => new Date(ms).toISOString();
  /** `u` subscribed to `planId` since `startsAt`, its next period (and grant) at `nextGrantAt` (ms). */
  const subscribedSince = (u: FixtureUser, planId: string, startsAt: number, nextGrantAt: number) =>
    t.db.query(
      `INSERT INTO subscriptions (user_id, account_id, plan_id, starts_at, next_grant_at, created_by, created_at)
       VALUES ($1, (SELECT account_id FROM accounts WHERE user_id = $1::varchar), $2, $3, $4, 'test', $3)`,
      [u.id, planId, new Date(startsAt), new Date(nextGrantAt)],
    );

  it('steady burn: 140 credits in 14 days from 1000 leave 860, 86 days of runway', async () => {
    const u = await f.newUser({ credits: 1000 });
    await f.recordUsage(u, 100).expect(201);
    await f.recordUsage(u, 40).expect(201);
    const base = settle();
    await expireAt(u, base, [365]);
    expect((await runway(u.auth).expect(200)).body).toEqual({
      burnPerDay: '10.0000',
      balance: 860,
      runsOutAt: iso(base + 86 * DAY),
      cause: 'burn',
      expiringBeforeUse: 0,
      basis: { days: 14, records: 2 },
    });
    // Over 3 days the same usage is a burn of 46 2/3 a day: 860 / (140/3) = 18 3/7 days, to the millisecond up.
    const short = (await runway(u.auth, { days: 3 }).expect(200)).body;
    expect(short.burnPerDay).toBe('46.6667');
    expect(short.runsOutAt).toBe(iso(base + Math.ceil((860 * 3 * DAY) / 140)));
  });

  it('a lot expiring before the burn spends it: its rest is expiringBeforeUse; an expiry can end the runway', async () => {
    // A (440, sooner) pays the usage: A 300, B 500. At 10 a day A loses 100 by day 10 and 200 expire.
    const u = await f.newUser({
      credits: [
        { credits: 440, expiryDays: 30 },
        { credits: 500, expiryDays: 60 },
      ],
    });
    await f.recordUsage(u, 140).expect(201);
    const base = settle();
    await expireAt(u, base, [10, 300]);
    expect((await runway(u.auth).expect(200)).body).toMatchObject({
      balance: 800,
      runsOutAt: iso(base + 60 * DAY),
      cause: 'burn',
      expiringBeforeUse: 200,
    });
    // B expiring on day 20 with 400 left empties the balance before the burn would.
    await expireAt(u, base, [10, 20]);
    expect((await runway(u.auth).expect(200)).body).toMatchObject({
      balance: 800,
      runsOutAt: iso(base + 20 * DAY),
      cause: 'expiry',
      expiringBeforeUse: 600,
    });
  });

  it('a plan grant to come: a weekly 70 lengthens 5 days at 20 a day to 8½', async () => {
    const u = await f.newUser({ credits: 380 });
    await f.recordUsage(u, 280).expect(201);
    const planId = uniqueId('runway-plan').slice(0, 50);
    const base = settle();
    await expireAt(u, base, [365]);
    await t.db.query(`INSERT INTO plans (id, name, credits, period, created_by) VALUES ($1, $1, 70, 'week', 'test')`, [
      planId,
    ]);
    // Started 3 days ago: the next period begins on day 4 and grants 70 expiring on day 11. Spent first
    // (it expires sooner), it lasts 3½ days; the 20 left of the lot then last one more.
    await subscribedSince(u, planId, base - 3 * DAY, base + 4 * DAY);
    expect((await runway(u.auth).expect(200)).body).toMatchObject({
      burnPerDay: '20.0000',
      balance: 100,
      runsOutAt: iso(base + 8.5 * DAY),
      cause: 'burn',
    });
  });

  it("a plan change scheduled for the period's end: the grants to come are the new plan's", async () => {
    const u = await f.newUser({ credits: 380 });
    await f.recordUsage(u, 280).expect(201);
    const [big, small] = [uniqueId('runway-big').slice(0, 50), uniqueId('runway-small').slice(0, 50)];
    for (const [id, credits] of [
      [big, 70],
      [small, 10],
    ] as const)
      await t.http.post('/api/plans').set(admin).send({ id, name: id, credits, period: 'week' }).expect(201);
    const base = settle();
    // Started 3 days ago (its period's grant spent or gone): the next period begins on day 4.
    await subscribedSince(u, big, base - 3 * DAY, base + 4 * DAY);
    const change = await t.http
      .put(`/api/users/${u.id}/subscription`)
      .set(admin)
      .send({ planId: small, timing: 'period_end' });
    expect(change.status, JSON.stringify(change.body)).toBe(200);
    expect(change.body.scheduledChange).toEqual({ planId: small, effectiveAt: iso(base + 4 * DAY) });
    await expireAt(u, base, [365]);
    // 100 at 20 a day: 20 left on day 4, when the small plan grants 10 (expiring on day 11, spent
    // first): half a day, then the 20 one more day.
    expect((await runway(u.auth).expect(200)).body).toMatchObject({
      burnPerDay: '20.0000',
      balance: 100,
      runsOutAt: iso(base + 5.5 * DAY),
      cause: 'burn',
    });
  });

  it('a debt is repaid first from the grants to come', async () => {
    // A (300, sooner) pays the usage; taken back whole, its 140 spent are owed. B's 500 are the balance.
    const u = await f.newUser({
      credits: [
        { credits: 300, expiryDays: 30 },
        { credits: 500, expiryDays: 60 },
      ],
    });
    await f.recordUsage(u, 140).expect(201);
    const taken = await t.db.query(
      `SELECT out_taken, out_debt FROM credits_take_back($1::uuid, 300, true, 0, 'test', ARRAY[]::int[])`,
      [u.allocationIds[0]],
    );
    expect(taken.rows[0]).toEqual({ out_taken: 160, out_debt: 140 });
    const planId = uniqueId('runway-debt-plan').slice(0, 50);
    await t.db.query(`INSERT INTO plans (id, name, credits, period, created_by) VALUES ($1, $1, 35, 'week', 'test')`, [
      planId,
    ]);
    const base = settle();
    await expireAt(u, base, [365, 365]);
    await subscribedSince(u, planId, base - 3 * DAY, base + 4 * DAY);
    // The grants of days 4, 11, 18 and 25 pay the 140 back: B alone burns 10 a day to day 32 (180
    // left). From then each week's 35 lasts 3½ days and B pays the other 3½ (35): on day 67 B has 5,
    // the grant lasts to day 70½ and B's 5 half a day more.
    expect((await runway(u.auth).expect(200)).body).toMatchObject({
      burnPerDay: '10.0000',
      balance: 500,
      runsOutAt: iso(base + 71 * DAY),
      cause: 'burn',
    });
  });

  it('an auto-recharge to come: 100 more when the balance falls below 50, once in 31 days', async () => {
    const u = await f.newUser({ credits: 240 });
    await f.recordUsage(u, 140).expect(201);
    const base = settle();
    await expireAt(u, base, [365]);
    await t.db.query(
      `INSERT INTO auto_recharge_settings (account_id, enabled, below_credits, recharge_credits, min_interval_minutes, updated_by)
       VALUES ((SELECT account_id FROM accounts WHERE user_id = $1), true, 50, 100, 44640, 'test')`,
      [u.id],
    );
    // 100 + 100 credits at 10 a day: 20 days (the next top-up could come on day 36 at the earliest).
    expect((await runway(u.auth).expect(200)).body).toMatchObject({
      balance: 100,
      runsOutAt: iso(base + 20 * DAY),
      cause: 'burn',
    });
  });

  it('no usage: no burn, no run-out day; what expires unspent is counted', async () => {
    const u = await f.newUser({ credits: 500 });
    const base = settle();
    await expireAt(u, base, [30]);
    expect((await runway(u.auth).expect(200)).body).toEqual({
      burnPerDay: '0.0000',
      balance: 500,
      runsOutAt: null,
      cause: null,
      expiringBeforeUse: 500,
      basis: { days: 14, records: 0 },
    });
  });

  it('corrections in the window count net: 200 used, corrected to 140, burn 10 a day', async () => {
    const u = await f.newUser({ credits: 1000 });
    const record = (await f.recordUsage(u, 200).expect(201)).body.id as string;
    await t.http
      .post(`/api/usage/records/${record}/corrections`)
      .set(admin)
      .send({ correctionId: uniqueId('c'), reason: 'overcharged', credits: 140 })
      .expect(201);
    const base = settle();
    await expireAt(u, base, [365]);
    expect((await runway(u.auth).expect(200)).body).toMatchObject({
      burnPerDay: '10.0000',
      balance: 860,
      runsOutAt: iso(base + 86 * DAY),
      basis: { days: 14, records: 1 },
    });
  });

  it('top-ups and transfers are not burn', async () => {
    const u = await f.newUser({ credits: 1000 });
    const other = await f.newUser({ credits: 300 });
    await f.recordUsage(u, 140).expect(201);
    await f.grant(u.id, 500);
    const transfer = (to: string, from: string, credits: number) =>
      t.http
        .post('/api/credits/transfers')
        .set(admin)
        .set('Idempotency-Key', uniqueId('k'))
        .send({ from: { userId: from }, to: { userId: to }, credits });
    expect((await transfer(u.id, other.id, 200)).status).toBe(201);
    expect((await transfer(other.id, u.id, 100)).status).toBe(201);
    const base = settle();
    await t.db.query(
      `UPDATE credit_allocations SET expires_at = $2 WHERE account_id = (SELECT account_id FROM accounts WHERE user_id = $1)`,
      [u.id, new Date(base + 365 * DAY)],
    );
    // 860 + 500 + 200 − 100 = 1460 at 10 a day.
    expect((await runway(u.auth).expect(200)).body).toMatchObject({
      burnPerDay: '10.0000',
      balance: 1460,
      runsOutAt: iso(base + 146 * DAY),
      basis: { days: 14, records: 1 },
    });
  });

  it('usage into the overdraft is burn when it is used; the debt a top-up repays is not burn again', async () => {
    const u = await f.newUser({ credits: 100 });
    await t.http.put(`/api/credits/limits/${u.id}`).set(admin).send({ overdraftLimit: 100 }).expect(200);
    // 140 used: 100 from the lot, 40 into the overdraft.
    await f.recordUsage(u, 140).expect(201);
    settle();
    expect((await runway(u.auth).expect(200)).body).toMatchObject({
      burnPerDay: '10.0000',
      balance: 0,
      basis: { days: 14, records: 1 },
    });
    clock.now = wall;
    // A top-up of 500 pays the 40 of debt back: 460 left, and still 140 used in the window.
    await f.grant(u.id, 500);
    const base = settle();
    await t.db.query(
      `UPDATE credit_allocations SET expires_at = $2 WHERE account_id = (SELECT account_id FROM accounts WHERE user_id = $1)`,
      [u.id, new Date(base + 365 * DAY)],
    );
    expect((await runway(u.auth).expect(200)).body).toEqual({
      burnPerDay: '10.0000',
      balance: 460,
      runsOutAt: iso(base + 46 * DAY),
      cause: 'burn',
      expiringBeforeUse: 0,
      basis: { days: 14, records: 1 },
    });
  });

  it('a streaming session is one record of the burn, its overrun included', async () => {
    const modelId = uniqueId('runway.model');
    await t.http.post('/api/pricing').set(admin).send({ modelId, pricePer1kTokens: '1000' }).expect(201);
    const u = await f.newUser({ credits: 1000 });
    const sessionId = uniqueId('runway-session');
    await t.http
      .post('/api/streaming-sessions/initialize')
      .set(u.auth)
      .send({ sessionId, modelId, estimatedTokens: 100 })
      .expect(201);
    // 100 held, 140 used: the hold and 40 more.
    const fin = await t.http
      .post('/api/streaming-sessions/finalize')
      .set(u.auth)
      .send({ sessionId, actualTokens: 140 })
      .expect(200);
    expect(fin.body.actualCredits).toBe(140);
    const base = settle();
    await expireAt(u, base, [365]);
    expect((await runway(u.auth).expect(200)).body).toEqual({
      burnPerDay: '10.0000',
      balance: 860,
      runsOutAt: iso(base + 86 * DAY),
      cause: 'burn',
      expiringBeforeUse: 0,
      basis: { days: 14, records: 1 },
    });
  });

  it('the same asOf gives the same answer after more writes', async () => {
    const u = await f.newUser({ credits: 1000 });
    await f.recordUsage(u, 140).expect(201);
    const base = settle();
    const asOf = iso(base);
    const before = (await runway(u.auth, { asOf }).expect(200)).body;
    clock.now = wall;
    await f.recordUsage(u, 70).expect(201);
    await f.grant(u.id, 400);
    expect((await runway(u.auth, { asOf }).expect(200)).body).toEqual(before);
    expect((await runway(u.auth).expect(200)).body).toMatchObject({ balance: 1190, burnPerDay: '15.0000' });
  });

  it('bad input is a 400: days out of range, an asOf in the future, userId with orgId', async () => {
    const u = await f.newUser({ credits: 10 });
    await runway(u.auth, { days: 0 }).expect(400);
    await runway(u.auth, { days: 91 }).expect(400);
    await runway(u.auth, { days: '1.5' }).expect(400);
    await runway(u.auth, { asOf: 'yesterday' }).expect(400);
    const future = await runway(u.auth, { asOf: iso(Date.now() + DAY) }).expect(400);
    expect(JSON.stringify(future.body)).not.toMatch(/SELECT|at .*\.ts/);
    await runway(admin, { userId: u.id, orgId: 'some-org' }).expect(400);
  });

  it('access: another user’s is 404, staff name a user, a portal token reads its own', async () => {
    const u = await f.newUser({ credits: 1000 });
    const other = await f.newUser({ credits: 50 });
    await f.recordUsage(u, 140).expect(201);
    await runway(other.auth, { userId: u.id }).expect(404);
    await runway(other.auth, { userId: 'nobody-at-all' }).expect(404);
    const staff = (await runway(bearer(tokenFor('supervisor', 'runway-sup')), { userId: u.id }).expect(200)).body;
    expect(staff).toMatchObject({ balance: 860, burnPerDay: '10.0000' });
    const portal = (await t.http.post('/api/portal/sessions').set(admin).send({ userId: u.id }).expect(201)).body;
    expect((await runway(bearer(portal.token)).expect(200)).body).toMatchObject({ balance: 860 });
    await runway(bearer(portal.token), { userId: other.id }).expect((res) => expect([403, 404]).toContain(res.status));
    expect((await runway(other.auth).expect(200)).body).toMatchObject({ balance: 50, burnPerDay: '0.0000' });
  });

  it('an org: its readers and staff by orgId, its portal; a plain member gets 403, an outsider 404', async () => {
    const owner = await f.newUser();
    const member = await f.newUser();
    const outsider = await f.newUser();
    const orgId = uniqueId('runway-org').toLowerCase().slice(0, 40);
    await t.http.post('/api/orgs').set(admin).send({ orgId, name: orgId, ownerUserId: owner.id }).expect(201);
    await t.http.put(`/api/orgs/${orgId}/members/${member.id}`).set(admin).send({ role: 'member' }).expect(200);
    await t.http.post('/api/credits/allocate').set(admin).send({ orgId, credits: 700 }).expect(201);
    const session = async (body: Record<string, unknown>) =>
      bearer((await t.http.post('/api/portal/sessions').set(admin).send(body).expect(201)).body.token as string);
    expect((await runway(owner.auth, { orgId }).expect(200)).body).toMatchObject({ balance: 700 });
    expect((await runway(admin, { orgId }).expect(200)).body).toMatchObject({ balance: 700 });
    expect((await runway(await session({ userId: owner.id, orgId }), { orgId }).expect(200)).body).toMatchObject({
      balance: 700,
    });
    await runway(member.auth, { orgId }).expect(403);
    await runway(await session({ userId: member.id, orgId }), { orgId }).expect(403);
    await runway(outsider.auth, { orgId }).expect(404);
  });
});
