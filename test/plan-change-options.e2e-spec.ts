import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { CLOCK, type Clock } from '../src/common/clock.js';
import { SubscriptionsService } from '../src/plans/subscriptions.service.js';
import { startTestApp, type TestApp, uniqueId } from './support/app.js';
import { freezeClock, passTime } from './support/clock.js';
import { Fixtures, type FixtureUser, principal } from './support/fixtures.js';
import { expectInvariants } from './support/invariants.js';
import { Metering } from './support/metering.js';
import { expectOrgInvariants } from './support/org-invariants.js';

/**
 * Plan changes mid-period (docs/plans.md "Changing plans"): `timing`, `allowance` and `anchor` on the
 * subscription PUT, the preview that writes nothing and that the PUT then follows, the schedule at
 * the period's end, and `subscription.changed`. The app's clock stands still, so a preview and the
 * PUT after it decide at the same instant; time passes for a user by moving their rows back.
 */
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

describe('plan changes: timing, allowance, anchor and the preview', () => {
  let t: TestApp;
  let f: Fixtures;
  const users: string[] = [];
  const orgs: string[] = [];
  const admin = principal('admin', 'pco-admin');
  const supervisor = principal('supervisor', 'pco-sup');
  const plans: Record<string, string> = {};

  async function newPlan(name: string, credits: number, rolloverCap = 0) {
    const id = uniqueId(`pco-${name}`).toLowerCase();
    await t.http.post('/api/plans').set(admin.auth).send({ id, name, credits, period: 'day', rolloverCap }).expect(201);
    plans[name] = id;
  }

  beforeAll(async () => {
    t = await startTestApp();
    freezeClock(t);
    f = new Fixtures(t, { users, prefix: 'pco' });
    await newPlan('free', 100);
    await newPlan('small', 500);
    await newPlan('mid', 700);
    await newPlan('big', 1000, 300);
    await newPlan('large', 1200, 400);
    await newPlan('pro', 5000);
  });
  afterAll(async () => {
    await expectInvariants(t, users);
    await expectOrgInvariants(t, orgs);
    await t.close();
  });

  const now = () => new Date(t.app.get<Clock>(CLOCK).now());
  const path = (owner: { userId: string } | { orgId: string }) =>
    'orgId' in owner ? `/api/orgs/${owner.orgId}/subscription` : `/api/users/${owner.userId}/subscription`;
  const put = (userId: string, plan: string, extra: Record<string, unknown> = {}) =>
    t.http
      .put(path({ userId }))
      .set(supervisor.auth)
      .send({ planId: plans[plan], ...extra });
  const preview = (userId: string, plan: string, extra: Record<string, unknown> = {}, auth = supervisor.auth) =>
    t.http
      .post(`${path({ userId })}/preview`)
      .set(auth)
      .send({ planId: plans[plan], ...extra });

  /** Everything a change of the user's plan could write, counted (and the subscriptions as they are). */
  async function written(userId: string) {
    const { rows } = await t.db.query(
      `SELECT (SELECT count(*)::int FROM credit_ledger WHERE account_id = (SELECT account_id FROM accounts WHERE user_id = $1)) AS ledger,
              (SELECT count(*)::int FROM credit_allocations WHERE account_id = (SELECT account_id FROM accounts WHERE user_id = $1)) AS allocations,
              (SELECT json_agg(s ORDER BY s.id) FROM subscriptions s WHERE s.user_id = $1) AS subscriptions,
              (SELECT count(*)::int FROM audit_log WHERE target_id = $1) AS audit,
              (SELECT count(*)::int FROM events WHERE data->>'userId' = $1) AS events`,
      [userId],
    );
    return rows[0];
  }

  /** The user's allocations with credits left and live at the app's instant, as a preview lists lots. */
  async function lotsOf(userId: string) {
    const { rows } = await t.db.query(
      `SELECT id AS "allocationId", remaining_credits AS credits, expires_at FROM credit_allocations
        WHERE account_id = (SELECT account_id FROM accounts WHERE user_id = $1) AND expires_at > $2 AND remaining_credits > 0
        ORDER BY expires_at, allocated_at, id`,
      [userId, now()],
    );
    return rows.map((r) => ({
      allocationId: r.allocationId,
      credits: r.credits,
      expiresAt: r.expires_at.toISOString(),
    }));
  }

  async function allocations(userId: string) {
    const { rows } = await t.db.query(
      `SELECT id, source, plan_id, total_credits, remaining_credits, expires_at FROM credit_allocations
        WHERE account_id = (SELECT account_id FROM accounts WHERE user_id = $1) ORDER BY allocated_at, id`,
      [userId],
    );
    return rows as {
      id: string;
      source: string;
      plan_id: string | null;
      total_credits: number;
      remaining_credits: number;
      expires_at: Date;
    }[];
  }

  async function changedEvents(owner: { userId: string } | { orgId: string }) {
    const [key, value] = 'orgId' in owner ? ['orgId', owner.orgId] : ['userId', owner.userId];
    const { rows } = await t.db.query(
      `SELECT data FROM events WHERE type = 'subscription.changed' AND data->>'${key}' = $1 ORDER BY created_at, id`,
      [value],
    );
    return rows.map((r) => r.data);
  }

  /** Moves the preview's answer and the PUT's side by side: what the PUT did, read back. */
  async function expectPutFollowsPreview(user: FixtureUser, plan: string, body: Record<string, unknown>) {
    const lotsBefore = new Set((await allocations(user.id)).map((a) => a.id));
    const before = await written(user.id);
    const said = await preview(user.id, plan, body).expect(200);
    expect(await written(user.id)).toEqual(before);
    const did = await put(user.id, plan, body).expect(200);
    const created = (await allocations(user.id)).filter((a) => !lotsBefore.has(a.id));
    const planGrant = created.filter((a) => a.source === 'plan').reduce((n, a) => n + a.total_credits, 0);
    const left = (await lotsOf(user.id)).filter((l) => lotsBefore.has(l.allocationId));
    expect(said.body).toEqual({
      planId: plans[plan],
      timing: body.timing ?? 'now',
      effectiveAt: said.body.timing === 'period_end' ? did.body.currentPeriodEnd : now().toISOString(),
      creditsGrantedNow: planGrant,
      lots: left,
      currentPeriodStart: did.body.currentPeriodStart,
      currentPeriodEnd: did.body.currentPeriodEnd,
      nextGrantAt: did.body.nextGrantAt,
    });
    return { said: said.body, did: did.body, created };
  }

  it('prorated: an upgrade grants ceil((new − old) × the period left), as the preview said, writing nothing first', async () => {
    const user = await f.newUser({ credits: 40 });
    await put(user.id, 'free').expect(200);
    // 7 of the day's 24 hours have passed: 17/24 of Pro's 4,900 more is 3,470.83…, rounded up.
    await passTime(t.db, user.id, 7 * HOUR);
    const { said, did } = await expectPutFollowsPreview(user, 'pro', { allowance: 'prorated' });
    expect(said.creditsGrantedNow).toBe(3471);
    expect(did).toMatchObject({ planId: plans.pro, scheduledChange: null });
    expect(await changedEvents({ userId: user.id })).toEqual([
      expect.objectContaining({ fromPlanId: null, toPlanId: plans.free, creditsGranted: 100 }),
      {
        userId: user.id,
        fromPlanId: plans.free,
        toPlanId: plans.pro,
        timing: 'now',
        allowance: 'prorated',
        anchor: 'keep',
        creditsGranted: 3471,
        effectiveAt: now().toISOString(),
      },
    ]);
    const { rows: audit } = await t.db.query(
      `SELECT after FROM audit_log WHERE action = 'subscription.set' AND target_id = $1 ORDER BY at DESC LIMIT 1`,
      [user.id],
    );
    expect(audit[0].after).toMatchObject({
      planId: plans.pro,
      options: { timing: 'now', allowance: 'prorated', anchor: 'keep' },
      creditsGranted: 3471,
    });
  });

  it('prorated: a downgrade grants nothing, and going back and forth never passes the largest plan held', async () => {
    const user = await f.newUser();
    await put(user.id, 'pro').expect(200);
    await passTime(t.db, user.id, 12 * HOUR);
    for (const plan of ['free', 'pro', 'free', 'pro']) await put(user.id, plan, { allowance: 'prorated' }).expect(200);
    const grants = (await allocations(user.id)).filter((a) => a.source === 'plan').map((a) => a.total_credits);
    expect(grants).toEqual([5000]);
    const events = await changedEvents({ userId: user.id });
    expect(events.map((e) => [e.toPlanId, e.creditsGranted])).toEqual([
      [plans.pro, 5000],
      [plans.free, 0],
      [plans.pro, 0],
      [plans.free, 0],
      [plans.pro, 0],
    ]);
  });

  it('full + restart: a new period now with the full allowance; the old plan lot expires whole, nothing rolls over', async () => {
    const metering = await Metering.start(t);
    const user = await f.newUser({ credits: { credits: 50, expiryDays: 30 } });
    await put(user.id, 'big').expect(200);
    await f.recordUsage(user, 200).expect(201);
    // A session open across the change holds 120 of the plan lot.
    await metering.initialize(user.id, 'pco-session', 100);
    await passTime(t.db, user.id, 7 * HOUR);
    const [manual, old] = await allocations(user.id);
    expect([manual.source, old.source, old.remaining_credits]).toEqual(['manual', 'plan', 680]);

    const { said, did, created } = await expectPutFollowsPreview(user, 'small', {
      allowance: 'full',
      anchor: 'restart',
    });
    const periodEnd = new Date(now().getTime() + DAY).toISOString();
    expect(said).toMatchObject({ creditsGrantedNow: 500, currentPeriodStart: now().toISOString() });
    expect(did).toMatchObject({ startsAt: now().toISOString(), currentPeriodEnd: periodEnd, nextGrantAt: periodEnd });
    expect(said.lots.map((l: { allocationId: string }) => l.allocationId)).toEqual([manual.id]);
    expect(created.map((a) => [a.source, a.total_credits, a.expires_at.toISOString()])).toEqual([
      ['plan', 500, periodEnd],
    ]);
    const after = await allocations(user.id);
    // The manual lot is as it was; the old plan lot expired whole: a change rolls nothing over (its cap
    // of 300 applies only when a period ends by itself).
    expect(after[0]).toEqual(manual);
    expect(after[1]).toMatchObject({ remaining_credits: 0 });
    expect(after[1].expires_at.toISOString()).toBe(now().toISOString());
    const { rows: lines } = await t.db.query(
      `SELECT kind, amount FROM credit_ledger WHERE allocation_id = $1 AND kind IN ('rollover', 'expire') ORDER BY id`,
      [old.id],
    );
    expect(lines).toEqual([{ kind: 'expire', amount: -680 }]);
    expect(await f.available(user.id)).toBe(50 + 500);

    // The hold settles against the lot it reserved: 50 charged, the 70 given back expire with that lot.
    await metering.finalize(user.id, 'pco-session', 50);
    const { rows: settled } = await t.db.query(
      `SELECT kind, amount FROM credit_ledger WHERE allocation_id = $1 AND session_id = 'pco-session' ORDER BY id`,
      [old.id],
    );
    expect(settled.map((l) => l.kind)).toEqual(['hold', 'release', 'expire']);
    expect(settled.slice(1)).toEqual([
      { kind: 'release', amount: 70 },
      { kind: 'expire', amount: -70 },
    ]);
    expect(await f.available(user.id)).toBe(550);
    expect(await changedEvents({ userId: user.id })).toEqual([
      expect.objectContaining({ fromPlanId: null, toPlanId: plans.big }),
      expect.objectContaining({
        fromPlanId: plans.big,
        toPlanId: plans.small,
        allowance: 'full',
        anchor: 'restart',
        creditsGranted: 500,
        effectiveAt: now().toISOString(),
      }),
    ]);
  });

  it('full + restart repeated in one period never grows the balance: no change rolls credits over', async () => {
    const user = await f.newUser();
    await put(user.id, 'big').expect(200);
    expect(await f.available(user.id)).toBe(1000);
    for (let i = 0; i < 4; i++) {
      // An hour between changes: each restart's period starts at an instant of its own.
      await passTime(t.db, user.id, HOUR);
      await put(user.id, 'large', { allowance: 'full', anchor: 'restart' }).expect(200);
      expect(await f.available(user.id)).toBe(1200);
      await passTime(t.db, user.id, HOUR);
      await put(user.id, 'big', { allowance: 'full', anchor: 'restart' }).expect(200);
      expect(await f.available(user.id)).toBe(1000);
    }
    const { rows } = await t.db.query(
      `SELECT count(*)::int AS n FROM credit_allocations
        WHERE account_id = (SELECT account_id FROM accounts WHERE user_id = $1) AND source = 'rollover'`,
      [user.id],
    );
    expect(rows[0].n).toBe(0);
    await expectInvariants(t, [user.id]);
  });

  it('refusals: full without restart, startsAt with another timing, period_end with no period; nothing written', async () => {
    const user = await f.newUser();
    const bodies: [Record<string, unknown>, number][] = [
      [{ allowance: 'full' }, 400],
      [{ allowance: 'full', anchor: 'keep' }, 400],
      [{ timing: 'period_end', startsAt: new Date(now().getTime() + HOUR).toISOString() }, 400],
      [{ anchor: 'restart', startsAt: new Date(now().getTime() + HOUR).toISOString() }, 400],
      [{ timing: 'later' }, 400],
      [{ allowance: 'all' }, 400],
      [{ timing: 'period_end' }, 409],
    ];
    const before = await written(user.id);
    for (const [body, status] of bodies) {
      const res = await put(user.id, 'pro', body);
      expect([res.status, body]).toEqual([status, body]);
      if (status === 409) expect(res.body.code).toBe('NO_PERIOD_IN_PROGRESS');
      expect((await preview(user.id, 'pro', body)).status).toBe(status);
    }
    expect(await written(user.id)).toEqual(before);
  });

  it('period_end: nothing moves now, the view shows the schedule, another PUT replaces it, the period end applies it once', async () => {
    const user = await f.newUser();
    const first = await put(user.id, 'big').expect(200);
    await f.recordUsage(user, 100).expect(201);
    const before = await written(user.id);
    const { said, did } = await expectPutFollowsPreview(user, 'small', { timing: 'period_end' });
    expect(said).toMatchObject({ creditsGrantedNow: 0, effectiveAt: first.body.currentPeriodEnd });
    expect(did).toMatchObject({
      planId: plans.big,
      scheduledChange: { planId: plans.small, effectiveAt: first.body.currentPeriodEnd },
    });
    const scheduled = await written(user.id);
    expect([scheduled.ledger, scheduled.allocations, scheduled.events]).toEqual([
      before.ledger,
      before.allocations,
      before.events,
    ]);
    await put(user.id, 'mid', { timing: 'period_end' }).expect(200);
    const shown = await t.http
      .get(path({ userId: user.id }))
      .set(user.auth)
      .expect(200);
    expect(shown.body.scheduledChange).toEqual({ planId: plans.mid, effectiveAt: first.body.currentPeriodEnd });
    expect(await changedEvents({ userId: user.id })).toHaveLength(1);

    await passTime(t.db, user.id, DAY + 60_000);
    const subscriptions = t.app.get(SubscriptionsService);
    const { rows } = await t.db.query(
      `SELECT id, account_id FROM subscriptions WHERE user_id = $1 AND ended_at IS NULL`,
      [user.id],
    );
    expect(await subscriptions.renewDue(rows[0].id, rows[0].account_id, now())).toBe(true);
    expect(await subscriptions.renewDue(rows[0].id, rows[0].account_id, now())).toBe(false);
    const after = await t.http
      .get(path({ userId: user.id }))
      .set(user.auth)
      .expect(200);
    expect(after.body).toMatchObject({ planId: plans.mid, scheduledChange: null });
    // Big's cap of its 900 left rolled over; Mid's first period granted in full; Big never renewed.
    expect((await allocations(user.id)).map((a) => [a.source, a.plan_id, a.total_credits])).toEqual([
      ['plan', plans.big, 1000],
      ['rollover', plans.mid, 300],
      ['plan', plans.mid, 700],
    ]);
    const events = await changedEvents({ userId: user.id });
    expect(events).toHaveLength(2);
    expect(events[1]).toEqual({
      userId: user.id,
      fromPlanId: plans.big,
      toPlanId: plans.mid,
      timing: 'period_end',
      allowance: 'difference',
      anchor: 'keep',
      creditsGranted: 700,
      effectiveAt: new Date(new Date(first.body.currentPeriodEnd).getTime() - DAY - 60_000).toISOString(),
    });
    const { rows: renewed } = await t.db.query(
      `SELECT count(*)::int AS n FROM events WHERE type = 'subscription.renewed' AND data->>'userId' = $1`,
      [user.id],
    );
    expect(renewed[0].n).toBe(0);
  });

  it('a PUT of the plan held drops a schedule; DELETE removes the subscription and its schedule', async () => {
    const kept = await f.newUser();
    await put(kept.id, 'big').expect(200);
    await put(kept.id, 'small', { timing: 'period_end' }).expect(200);
    const again = await put(kept.id, 'big').expect(200);
    expect(again.body.scheduledChange).toBeNull();

    const deleted = await f.newUser();
    await put(deleted.id, 'big').expect(200);
    await put(deleted.id, 'small', { timing: 'period_end', anchor: 'restart' }).expect(200);
    const gone = await t.http
      .delete(path({ userId: deleted.id }))
      .set(supervisor.auth)
      .expect(200);
    expect(gone.body.scheduledChange).toBeNull();

    for (const user of [kept, deleted]) await passTime(t.db, user.id, DAY + 60_000);
    const subscriptions = t.app.get(SubscriptionsService);
    const { rows } = await t.db.query(
      `SELECT id, account_id FROM subscriptions WHERE user_id = $1 AND ended_at IS NULL`,
      [kept.id],
    );
    expect(await subscriptions.renewDue(rows[0].id, rows[0].account_id, now())).toBe(true);
    expect((await allocations(kept.id)).map((a) => [a.source, a.plan_id])).toEqual([
      ['plan', plans.big],
      ['rollover', plans.big],
      ['plan', plans.big],
    ]);
    const { rows: live } = await t.db.query(
      `SELECT count(*)::int AS n FROM subscriptions WHERE user_id = $1 AND ended_at IS NULL`,
      [deleted.id],
    );
    expect(live[0].n).toBe(0);
    expect((await changedEvents({ userId: deleted.id })).map((e) => e.toPlanId)).toEqual([plans.big]);
    expect((await changedEvents({ userId: kept.id })).map((e) => e.toPlanId)).toEqual([plans.big]);
  });

  it('three instances reaching the period end together apply a scheduled change exactly once', async () => {
    const others = [await startTestApp({ JOBS_ENABLED: 'false' }), await startTestApp({ JOBS_ENABLED: 'false' })];
    try {
      const user = await f.newUser();
      await put(user.id, 'free').expect(200);
      await put(user.id, 'pro', { timing: 'period_end', anchor: 'restart' }).expect(200);
      await passTime(t.db, user.id, DAY + 60_000);
      const { rows } = await t.db.query(
        `SELECT id, account_id FROM subscriptions WHERE user_id = $1 AND ended_at IS NULL`,
        [user.id],
      );
      const results = await Promise.all(
        [t, ...others].map((app) => app.app.get(SubscriptionsService).renewDue(rows[0].id, rows[0].account_id, now())),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
      expect((await allocations(user.id)).map((a) => [a.plan_id, a.total_credits])).toEqual([
        [plans.free, 100],
        [plans.pro, 5000],
      ]);
      const events = await changedEvents({ userId: user.id });
      expect(events.map((e) => [e.toPlanId, e.timing, e.anchor])).toEqual([
        [plans.free, 'now', 'keep'],
        [plans.pro, 'period_end', 'restart'],
      ]);
      const { rows: subs } = await t.db.query(
        `SELECT plan_id, ended_at IS NULL AS live FROM subscriptions WHERE user_id = $1 ORDER BY created_at`,
        [user.id],
      );
      expect(subs).toEqual([
        { plan_id: plans.free, live: false },
        { plan_id: plans.pro, live: true },
      ]);
    } finally {
      for (const other of others) await other.close();
    }
  });

  it('the preview: the user for their own, staff for anyone; another user gets 404', async () => {
    const user = await f.newUser();
    const stranger = await f.newUser();
    await put(user.id, 'free').expect(200);
    const own = await preview(user.id, 'pro', {}, user.auth).expect(200);
    expect(own.body.creditsGrantedNow).toBe(4900);
    await preview(user.id, 'pro', {}, stranger.auth).expect(404);
    await preview(user.id, 'pro', {}, supervisor.auth).expect(200);
    await t.http
      .post(`${path({ userId: user.id })}/preview`)
      .set(user.auth)
      .send({ planId: 'no-such-plan' })
      .expect(404);
    const { rows } = await t.db.query(
      `SELECT count(*)::int AS n FROM credit_allocations WHERE account_id = (SELECT account_id FROM accounts WHERE user_id = $1)`,
      [user.id],
    );
    expect(rows[0].n).toBe(1);
  });

  it('org subscriptions: the options, the preview for org readers, a schedule applied to the pool', async () => {
    const owner = await f.newUser();
    const member = await f.newUser();
    const outsider = await f.newUser();
    const orgId = uniqueId('pco').toLowerCase();
    orgs.push(orgId);
    await t.http.post('/api/orgs').set(admin.auth).send({ orgId, name: 'Team', ownerUserId: owner.id }).expect(201);
    await t.http.put(`/api/orgs/${orgId}/members/${member.id}`).set(admin.auth).send({ role: 'member' }).expect(200);
    const org = { orgId };
    const orgPut = (plan: string, body: Record<string, unknown> = {}) =>
      t.http
        .put(path(org))
        .set(supervisor.auth)
        .send({ planId: plans[plan], ...body });
    const orgPreview = (auth: Record<string, string>, plan: string, body: Record<string, unknown> = {}) =>
      t.http
        .post(`${path(org)}/preview`)
        .set(auth)
        .send({ planId: plans[plan], ...body });

    await orgPut('free').expect(200);
    const said = await orgPreview(owner.auth, 'pro', { allowance: 'prorated' }).expect(200);
    await orgPreview(member.auth, 'pro').expect(403);
    await orgPreview(outsider.auth, 'pro').expect(404);
    await orgPut('big', { allowance: 'full' }).expect(400);
    const did = await orgPut('pro', { allowance: 'prorated' }).expect(200);
    expect(said.body).toMatchObject({
      planId: plans.pro,
      creditsGrantedNow: 4900,
      currentPeriodStart: did.body.currentPeriodStart,
      currentPeriodEnd: did.body.currentPeriodEnd,
      nextGrantAt: did.body.nextGrantAt,
    });
    const scheduled = await orgPut('small', { timing: 'period_end' }).expect(200);
    expect(scheduled.body).toMatchObject({ orgId, planId: plans.pro, scheduledChange: { planId: plans.small } });
    const { rows } = await t.db.query(
      `SELECT id, account_id FROM subscriptions WHERE org_id = $1 AND ended_at IS NULL`,
      [orgId],
    );
    const end = new Date(new Date(scheduled.body.currentPeriodEnd).getTime() + 60_000);
    // The row is renewed only with the account it carries: another account's id takes nothing.
    const { rows: other } = await t.db.query(`SELECT account_id FROM accounts WHERE user_id = $1`, [owner.id]);
    expect(await t.app.get(SubscriptionsService).renewDue(rows[0].id, other[0].account_id, end)).toBe(false);
    expect(await t.app.get(SubscriptionsService).renewDue(rows[0].id, rows[0].account_id, end)).toBe(true);
    const events = await changedEvents(org);
    expect(events.map((e) => [e.userId, e.fromPlanId, e.toPlanId, e.creditsGranted])).toEqual([
      [null, null, plans.free, 100],
      [null, plans.free, plans.pro, 4900],
      [null, plans.pro, plans.small, 500],
    ]);
    const { rows: pool } = await t.db.query(
      `SELECT plan_id, total_credits FROM credit_allocations WHERE account_id = (SELECT account_id FROM accounts WHERE org_id = $1) ORDER BY allocated_at`,
      [orgId],
    );
    expect(pool).toEqual([
      { plan_id: plans.free, total_credits: 100 },
      { plan_id: plans.pro, total_credits: 4900 },
      { plan_id: plans.small, total_credits: 500 },
    ]);
    // Each subscription, written by a PUT or by the applied schedule, carries the org's account.
    const { rows: carried } = await t.db.query(
      `SELECT s.plan_id, s.account_id = a.account_id AS org_account FROM subscriptions s JOIN accounts a ON a.org_id = s.org_id
        WHERE s.org_id = $1 ORDER BY s.created_at`,
      [orgId],
    );
    expect(carried).toEqual([
      { plan_id: plans.free, org_account: true },
      { plan_id: plans.pro, org_account: true },
      { plan_id: plans.small, org_account: true },
    ]);
  });
});
