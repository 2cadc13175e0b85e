import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { CLOCK, type Clock } from '../src/common/clock.js';
import { SubscriptionsService } from '../src/plans/subscriptions.service.js';
import { startTestApp, type TestApp, uniqueId } from './support/app.js';
import { Fixtures, type FixtureUser, type Principal, principal } from './support/fixtures.js';

/**
 * An organisation's money over HTTP (docs/orgs.md "The org's money"): grants to an org and their void,
 * ledger and reconcile; the org's balance, allocations, ledger, usage and settings through the user
 * routes' services; the member view's exact numbers (spentInPeriod, periodResetsAt, availableCredits,
 * binding) on the app's clock, across an ISO week boundary; separation of duties for org members.
 */
describe('organisation money', () => {
  let t: TestApp;
  let f: Fixtures;
  const users: string[] = [];
  const sup = principal('supervisor', 'orgm-sup');
  const admin = principal('admin', 'orgm-admin');
  let clock: Clock;
  const wallClock = () => Date.now();

  beforeAll(async () => {
    t = await startTestApp();
    f = new Fixtures(t, { users, prefix: 'orgm', granter: admin.jwt });
    for (const p of [sup, admin]) await t.http.get('/api/users/me').set(p.auth).expect(200);
    clock = t.app.get<Clock>(CLOCK);
  });
  afterAll(async () => {
    clock.now = wallClock;
    await t.close();
  });

  async function newOrg(): Promise<{ orgId: string; owner: FixtureUser }> {
    const owner = await f.newUser();
    const orgId = uniqueId('om').toLowerCase();
    await t.http.post('/api/orgs').set(sup.auth).send({ orgId, name: 'Team', ownerUserId: owner.id }).expect(201);
    return { orgId, owner };
  }

  const allocate = (by: Principal, body: Record<string, unknown>) =>
    t.http.post('/api/credits/allocate').set(by.auth).send(body);

  async function orgWrites(orgId: string) {
    const { rows } = await t.db.query(
      `SELECT (SELECT count(*)::int FROM credit_allocations WHERE account_id = (SELECT account_id FROM accounts WHERE org_id = $1::varchar)) AS allocations,
              (SELECT count(*)::int FROM credit_ledger WHERE account_id = (SELECT account_id FROM accounts WHERE org_id = $1::varchar)) AS ledger`,
      [orgId],
    );
    return rows[0] as { allocations: number; ledger: number };
  }

  it('allocates to an org (exactly one of userId and orgId), voids it; ledger and reconcile are clean', async () => {
    const { orgId, owner } = await newOrg();
    const res = await allocate(admin, { orgId, credits: 500, notes: 'Team pool' });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body).toMatchObject({
      orgId,
      userId: null,
      totalCredits: 500,
      remainingCredits: 500,
      notes: 'Team pool',
    });
    const org = await t.http.get(`/api/orgs/${orgId}`).set(owner.auth).expect(200);
    expect(org.body).toMatchObject({ totalCredits: 500, heldCredits: 0, debt: 0 });
    // Bad input: both, neither, orgId with account-creation fields, a malformed id; unknown org → 404.
    for (const body of [
      { orgId, userId: owner.id, credits: 5 },
      { credits: 5 },
      { orgId, credits: 5, email: 'a@example.com', username: 'a' },
      { orgId: 'NOT valid', credits: 5 },
      { orgId, credits: 0 },
    ]) {
      expect((await allocate(admin, body)).status, JSON.stringify(body)).toBe(400);
    }
    const unknown = await allocate(admin, { orgId: uniqueId('none').toLowerCase(), credits: 5 });
    expect(unknown.status).toBe(404);
    expect(unknown.body.message).toBe('Org not found');
    expect(await orgWrites(orgId)).toEqual({ allocations: 1, ledger: 1 });
    // The org's lists, for its owner.
    const allocations = await t.http.get(`/api/orgs/${orgId}/allocations`).set(owner.auth).expect(200);
    expect(allocations.body.items.map((a: { id: string; orgId: string }) => [a.id, a.orgId])).toEqual([
      [res.body.id, orgId],
    ]);
    const voided = await t.http
      .post(`/api/credits/allocations/${res.body.id}/void`)
      .set(admin.auth)
      .send({ reason: 'wrong org' })
      .expect(200);
    expect(voided.body).toMatchObject({ orgId, remainingCredits: 0, voidReason: 'wrong org' });
    const ledger = await t.http.get(`/api/orgs/${orgId}/ledger`).set(owner.auth).expect(200);
    expect(ledger.body.items.map((e: { kind: string; amount: number }) => [e.kind, e.amount])).toEqual([
      ['void', -500],
      ['grant', 500],
    ]);
    // The org's lines name the org; no member spent them.
    expect(ledger.body.items.map((e: { orgId: string; userId: string | null }) => [e.orgId, e.userId])).toEqual([
      [orgId, null],
      [orgId, null],
    ]);
    const voids = await t.http.get(`/api/orgs/${orgId}/ledger`).query({ kind: 'void' }).set(owner.auth).expect(200);
    expect(voids.body.items).toHaveLength(1);
    expect((await t.http.get(`/api/orgs/${orgId}/balance`).set(owner.auth).expect(200)).body).toEqual({
      orgId,
      totalCredits: 0,
      heldCredits: 0,
      debt: 0,
      billingCurrency: null,
      activeAllocations: [],
    });
    const reconcile = await t.http.get('/api/credits/reconcile').set(admin.auth).expect(200);
    expect(reconcile.body.mismatches.filter((m: { allocationId: string }) => m.allocationId === res.body.id)).toEqual(
      [],
    );
    const audit = await t.db.query(
      `SELECT action, after->>'orgId' AS org FROM audit_log WHERE target_id = $1 ORDER BY at`,
      [res.body.id],
    );
    expect(audit.rows).toEqual([
      { action: 'credits.allocate', org: orgId },
      { action: 'credits.void', org: orgId },
    ]);
    // The org's allocation is not the owner's.
    expect((await t.http.get('/api/credits/balance').set(owner.auth).expect(200)).body.totalCredits).toBe(0);
  });

  it('separation of duties: a supervisor who is a member may not allocate to the org; others and admins may', async () => {
    const { orgId, owner } = await newOrg();
    const memberSup = await f.newUser({ role: 'supervisor' });
    await t.http
      .put(`/api/orgs/${orgId}/members/${memberSup.id}`)
      .set(owner.auth)
      .send({ role: 'billing' })
      .expect(200);
    const refused = await allocate(memberSup, { orgId, credits: 100 });
    expect(refused.status).toBe(403);
    expect(refused.body).toEqual({
      statusCode: 403,
      error: 'Forbidden',
      code: 'SELF_GRANT_FORBIDDEN',
      message: 'Supervisors may not allocate credits to an organisation they are a member of',
    });
    expect(await orgWrites(orgId)).toEqual({ allocations: 0, ledger: 0 });
    expect((await allocate(sup, { orgId, credits: 100 })).status).toBe(201);
    const memberAdmin = await f.newUser({ role: 'admin' });
    await t.http
      .put(`/api/orgs/${orgId}/members/${memberAdmin.id}`)
      .set(owner.auth)
      .send({ role: 'member' })
      .expect(200);
    expect((await allocate(memberAdmin, { orgId, credits: 50 })).status).toBe(201);
    // Once removed, the supervisor may grant to it again.
    await t.http.delete(`/api/orgs/${orgId}/members/${memberSup.id}`).set(owner.auth).expect(200);
    expect((await allocate(memberSup, { orgId, credits: 25 })).status).toBe(201);
    expect((await orgWrites(orgId)).allocations).toBe(3);
  });

  it('the member view: exact spentInPeriod, periodResetsAt, availableCredits and binding, over an ISO week', async () => {
    const { orgId, owner } = await newOrg();
    const m = await f.newUser();
    await allocate(admin, { orgId, credits: 500 }).expect(201);
    await t.http
      .put(`/api/orgs/${orgId}/members/${m.id}`)
      .set(owner.auth)
      .send({ role: 'member', spendLimit: { credits: 100, period: 'week' } })
      .expect(200);
    // 2026-11-23 is a Monday: the ISO week of Wednesday the 25th is [23rd, 30th). The spend rows are
    // written as the days pass (never a row after the clock's day), as the charges write them.
    const spend = (rows: [string, number][]) =>
      t.db.query(
        `INSERT INTO credit_cap_spend (subject_kind, subject_id, account_id, period_start, spent)
         SELECT 'member', $2, (SELECT account_id FROM accounts WHERE org_id = $1::varchar), d::timestamp AT TIME ZONE 'UTC', n
           FROM unnest($3::text[], $4::int[]) AS r(d, n)`,
        [orgId, m.id, rows.map((r) => r[0]), rows.map((r) => r[1])],
      );
    await spend([
      ['2026-10-31', 7],
      ['2026-11-22', 100],
      ['2026-11-23', 40],
      ['2026-11-25', 5],
    ]);
    const view = async () =>
      (await t.http.get(`/api/orgs/${orgId}/members/${m.id}`).set(m.auth).expect(200)).body as Record<string, unknown>;
    const put = (spendLimit: unknown) =>
      t.http.put(`/api/orgs/${orgId}/members/${m.id}`).set(owner.auth).send({ role: 'member', spendLimit }).expect(200);

    clock.now = () => Date.parse('2026-11-25T12:00:00.000Z');
    expect(await view()).toMatchObject({
      spendLimit: { credits: 100, period: 'week' },
      spentInPeriod: 45,
      periodResetsAt: '2026-11-30T00:00:00.000Z',
      availableCredits: 55,
      binding: 'member',
    });
    // A day: the same rows counted over another period (changing it resets nothing).
    expect((await put({ credits: 100, period: 'day' })).body).toMatchObject({
      spentInPeriod: 5,
      periodResetsAt: '2026-11-26T00:00:00.000Z',
      availableCredits: 95,
      binding: 'member',
    });
    await put({ credits: 100, period: 'week' });
    // The last instant of the week, then the first of the next.
    await spend([['2026-11-29', 30]]);
    clock.now = () => Date.parse('2026-11-29T23:59:59.999Z');
    expect(await view()).toMatchObject({
      spentInPeriod: 75,
      periodResetsAt: '2026-11-30T00:00:00.000Z',
      availableCredits: 25,
    });
    clock.now = () => Date.parse('2026-11-30T00:00:00.000Z');
    expect(await view()).toMatchObject({
      spentInPeriod: 0,
      periodResetsAt: '2026-12-07T00:00:00.000Z',
      availableCredits: 100,
      binding: 'member',
    });
    await spend([['2026-11-30', 1000]]);
    clock.now = () => Date.parse('2026-11-30T12:00:00.000Z');
    expect(await view()).toMatchObject({ spentInPeriod: 1000, availableCredits: 0, binding: 'member' });
    // A month: November's rows, not October's.
    expect((await put({ credits: 5000, period: 'month' })).body).toMatchObject({
      spentInPeriod: 1175,
      periodResetsAt: '2026-12-01T00:00:00.000Z',
      availableCredits: 500,
      binding: 'pool',
    });
    // The pool's overdraft counts as spendable; a limit leaving exactly the pool binds as the pool.
    await t.http.put(`/api/orgs/${orgId}/limits`).set(admin.auth).send({ overdraftLimit: 200 }).expect(200);
    expect((await put({ credits: 1875, period: 'month' })).body).toMatchObject({
      availableCredits: 700,
      binding: 'pool',
    });
    expect((await put({ credits: 1874, period: 'month' })).body).toMatchObject({
      availableCredits: 699,
      binding: 'member',
    });
    // Without a limit: the pool alone.
    expect((await put(null)).body).toMatchObject({
      spendLimit: null,
      spentInPeriod: null,
      periodResetsAt: null,
      availableCredits: 700,
      binding: 'pool',
    });
    // The list answers the same views.
    const list = await t.http.get(`/api/orgs/${orgId}/members`).set(owner.auth).expect(200);
    expect(list.body.items.find((x: { userId: string }) => x.userId === m.id)).toMatchObject({ availableCredits: 700 });
    clock.now = wallClock;
  });

  it('usage stats and records of the org: only its records, byMember, the member filter, CSV', async () => {
    const { orgId, owner } = await newOrg();
    const [a, b, billing, plain] = [await f.newUser(), await f.newUser(), await f.newUser(), await f.newUser()];
    for (const [u, role] of [
      [a, 'member'],
      [b, 'member'],
      [billing, 'billing'],
      [plain, 'member'],
    ] as const)
      await t.http.put(`/api/orgs/${orgId}/members/${u.id}`).set(owner.auth).send({ role }).expect(200);
    await t.db.query(
      `INSERT INTO usage_records (user_id, org_id, service, operation, credits, model_id, "timestamp", account_id)
       VALUES ($2, $1, 'chat', 'completion', 30, 'm1', '2026-11-20T10:00:00Z', (SELECT account_id FROM accounts WHERE org_id = $1::varchar)),
              ($2, $1, 'chat', 'completion', 12, 'm1', '2026-11-21T10:00:00Z', (SELECT account_id FROM accounts WHERE org_id = $1::varchar)),
              ($3, $1, 'embed', 'vector', 8, 'm2', '2026-11-21T11:00:00Z', (SELECT account_id FROM accounts WHERE org_id = $1::varchar)),
              ($2, NULL, 'chat', 'completion', 1000, 'm1', '2026-11-21T12:00:00Z', (SELECT account_id FROM accounts WHERE user_id = $2::varchar))`,
      [orgId, a.id, b.id],
    );
    const stats = await t.http.get(`/api/orgs/${orgId}/usage/stats`).set(billing.auth).expect(200);
    expect(stats.body).toMatchObject({
      orgId,
      totalRecords: 3,
      totalCredits: 50,
      byService: { chat: 42, embed: 8 },
      byDay: { '2026-11-20': 30, '2026-11-21': 20 },
      byModel: { m1: 42, m2: 8 },
      byMember: { [a.id]: 42, [b.id]: 8 },
    });
    expect(stats.body.recentActivity).toHaveLength(3);
    expect(stats.body.userId).toBeUndefined();
    const window = await t.http
      .get(`/api/orgs/${orgId}/usage/stats`)
      .query({ startDate: '2026-11-21', endDate: '2026-11-21' })
      .set(sup.auth)
      .expect(200);
    expect(window.body).toMatchObject({ totalCredits: 20, byMember: { [a.id]: 12, [b.id]: 8 } });
    const bad = await t.http
      .get(`/api/orgs/${orgId}/usage/stats`)
      .query({ startDate: '2026-11-22', endDate: '2026-11-21' })
      .set(sup.auth);
    expect(bad.status).toBe(400);
    // groupBy as the user-level stats take it: credits per id of that scope kind.
    await t.db.query(
      `UPDATE usage_records SET scope_project = CASE WHEN credits = 8 THEN 'beta' ELSE 'alpha' END,
                                scope_tags = CASE WHEN credits = 30 THEN '{search,eval}'::varchar[] END
        WHERE org_id = $1`,
      [orgId],
    );
    const byProject = await t.http.get(`/api/orgs/${orgId}/usage/stats?groupBy=project`).set(billing.auth).expect(200);
    expect(byProject.body).toMatchObject({ totalCredits: 50, byScope: { alpha: 42, beta: 8 } });
    const byTag = await t.http.get(`/api/orgs/${orgId}/usage/stats?groupBy=tag`).set(sup.auth).expect(200);
    expect(byTag.body.byScope).toEqual({ search: 30, eval: 30 });
    expect(stats.body.byScope).toBeUndefined();
    expect((await t.http.get(`/api/orgs/${orgId}/usage/stats?groupBy=team`).set(sup.auth)).status).toBe(400);
    const records = await t.http.get(`/api/orgs/${orgId}/usage/records`).set(owner.auth).expect(200);
    expect(records.body.items.map((r: { credits: number }) => r.credits)).toEqual([8, 12, 30]);
    // Apart the other way: a member's own statistics are what their own account paid, not the org's.
    const own = await t.http.get(`/api/usage/stats/${a.id}`).set(sup.auth).expect(200);
    expect(own.body).toMatchObject({ userId: a.id, totalRecords: 1, totalCredits: 1000, byModel: { m1: 1000 } });
    expect(own.body.recentActivity.map((r: { credits: number; orgId: string | null }) => [r.credits, r.orgId])).toEqual(
      [[1000, null]],
    );
    const ofA = await t.http.get(`/api/orgs/${orgId}/usage/records`).query({ userId: a.id, limit: 1 }).set(owner.auth);
    expect(ofA.body.items.map((r: { credits: number }) => r.credits)).toEqual([12]);
    const next = await t.http
      .get(`/api/orgs/${orgId}/usage/records`)
      .query({ userId: a.id, limit: 1, cursor: ofA.body.nextCursor })
      .set(owner.auth)
      .expect(200);
    expect(next.body.items.map((r: { credits: number }) => r.credits)).toEqual([30]);
    const csv = await t.http
      .get(`/api/orgs/${orgId}/usage/records`)
      .query({ format: 'csv' })
      .set(billing.auth)
      .buffer(true)
      .parse((res, done) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => done(null, text));
      })
      .expect(200);
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    const lines = (csv.body as string).trim().split('\r\n');
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatch(/^id,userId,timestamp/);
    // A plain member reads none of it; an outsider sees no org.
    for (const path of ['usage/stats', 'usage/records', 'balance', 'allocations', 'ledger', 'limits']) {
      expect((await t.http.get(`/api/orgs/${orgId}/${path}`).set(plain.auth)).status, path).toBe(403);
      expect((await t.http.get(`/api/orgs/${orgId}/${path}`)).status, path).toBe(401);
    }
    const outsider = await f.newUser();
    expect((await t.http.get(`/api/orgs/${orgId}/balance`).set(outsider.auth)).status).toBe(404);
    expect((await t.http.get(`/api/orgs/${uniqueId('none').toLowerCase()}/balance`).set(sup.auth)).status).toBe(404);
  });

  it('limits and alerts of the org account (staff), audited with target org; bad input changes nothing', async () => {
    const { orgId, owner } = await newOrg();
    const set = await t.http
      .put(`/api/orgs/${orgId}/limits`)
      .set(sup.auth)
      .send({ overdraftLimit: 300, maxCreditsPerHour: 1000 });
    expect(set.status).toBe(200);
    expect(set.body).toEqual({
      orgId,
      overdraftLimit: 300,
      maxCreditsPerHour: 1000,
      effectiveMaxCreditsPerHour: 1000,
      debt: 0,
    });
    expect((await t.http.get(`/api/orgs/${orgId}/limits`).set(owner.auth).expect(200)).body).toEqual(set.body);
    // The org's own rows: its credit account, not the owner's.
    const { rows } = await t.db.query(
      `SELECT overdraft_limit, max_credits_per_hour, account_user_id(account_id) AS user_id FROM credit_accounts WHERE account_id = (SELECT account_id FROM accounts WHERE org_id = $1::varchar)`,
      [orgId],
    );
    expect(rows).toEqual([{ overdraft_limit: 300, max_credits_per_hour: 1000, user_id: null }]);
    const alerts = await t.http
      .put(`/api/orgs/${orgId}/alerts`)
      .set(sup.auth)
      .send({ thresholds: [50, 500, 50] });
    expect(alerts.body).toEqual({ orgId, thresholds: [500, 50], source: 'org' });
    const audit = await t.db.query(
      `SELECT action, target_type FROM audit_log WHERE target_id = $1 AND action <> 'org.create' ORDER BY at`,
      [orgId],
    );
    expect(audit.rows).toEqual([
      { action: 'org.limits.set', target_type: 'org' },
      { action: 'credits.alerts.set', target_type: 'org' },
    ]);
    for (const body of [{ overdraftLimit: -1 }, { maxCreditsPerHour: 0 }, { overdraftLimit: 'x' }, { extra: 1 }])
      expect((await t.http.put(`/api/orgs/${orgId}/limits`).set(sup.auth).send(body)).status).toBe(400);
    expect(
      (
        await t.http
          .put(`/api/orgs/${orgId}/alerts`)
          .set(sup.auth)
          .send({ thresholds: [-1] })
      ).status,
    ).toBe(400);
    // Org owners are not staff: the settings are the operators'.
    expect((await t.http.put(`/api/orgs/${orgId}/limits`).set(owner.auth).send({ overdraftLimit: 0 })).status).toBe(
      403,
    );
    expect(
      (
        await t.http
          .put(`/api/orgs/${uniqueId('none').toLowerCase()}/limits`)
          .set(sup.auth)
          .send({})
      ).status,
    ).toBe(404);
    const after = await t.http.get(`/api/orgs/${orgId}/limits`).set(owner.auth).expect(200);
    expect(after.body.overdraftLimit).toBe(300);
  });

  it('subscriptions of an org: the plan grants to the pool; SoD for member supervisors; delete; audited as org', async () => {
    const { orgId, owner } = await newOrg();
    const planId = uniqueId('op').toLowerCase();
    await t.http
      .post('/api/plans')
      .set(admin.auth)
      .send({ id: planId, name: 'Team', credits: 700, period: 'month' })
      .expect(201);
    const memberSup = await f.newUser({ role: 'supervisor' });
    await t.http.put(`/api/orgs/${orgId}/members/${memberSup.id}`).set(owner.auth).send({ role: 'member' }).expect(200);
    const refused = await t.http.put(`/api/orgs/${orgId}/subscription`).set(memberSup.auth).send({ planId });
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({
      code: 'SELF_GRANT_FORBIDDEN',
      message: 'Supervisors may not change the subscription of an organisation they are a member of',
    });
    const none = await t.db.query(`SELECT count(*)::int AS n FROM subscriptions WHERE org_id = $1`, [orgId]);
    expect(none.rows[0].n).toBe(0);
    expect(await orgWrites(orgId)).toEqual({ allocations: 0, ledger: 0 });
    const put = await t.http.put(`/api/orgs/${orgId}/subscription`).set(sup.auth).send({ planId });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    expect(put.body).toMatchObject({ orgId, planId, currentPeriodStart: expect.any(String) });
    expect(put.body.userId).toBeUndefined();
    const balance = await t.http.get(`/api/orgs/${orgId}/balance`).set(owner.auth).expect(200);
    expect(balance.body.totalCredits).toBe(700);
    expect(balance.body.activeAllocations[0]).toMatchObject({ source: 'plan', planId, credits: 700 });
    // The same plan again grants nothing more; the owner reads it; a plain member does not.
    await t.http.put(`/api/orgs/${orgId}/subscription`).set(admin.auth).send({ planId }).expect(200);
    expect((await t.http.get(`/api/orgs/${orgId}/balance`).set(owner.auth)).body.totalCredits).toBe(700);
    expect((await t.http.get(`/api/orgs/${orgId}/subscription`).set(owner.auth).expect(200)).body.planId).toBe(planId);
    const plain = await f.newUser();
    await t.http.put(`/api/orgs/${orgId}/members/${plain.id}`).set(owner.auth).send({ role: 'member' }).expect(200);
    expect((await t.http.get(`/api/orgs/${orgId}/subscription`).set(plain.auth)).status).toBe(403);
    // The owner's own account has no subscription and no credits from it.
    expect((await t.http.get(`/api/users/${owner.id}/subscription`).set(owner.auth)).status).toBe(404);
    expect((await t.http.delete(`/api/orgs/${orgId}/subscription`).set(memberSup.auth)).status).toBe(403);
    const ended = await t.http.delete(`/api/orgs/${orgId}/subscription`).set(sup.auth).expect(200);
    expect(ended.body).toMatchObject({ orgId, planId, nextGrantAt: null });
    expect((await t.http.get(`/api/orgs/${orgId}/subscription`).set(owner.auth)).status).toBe(404);
    expect((await t.http.delete(`/api/orgs/${orgId}/subscription`).set(sup.auth)).status).toBe(404);
    const audit = await t.db.query(
      `SELECT action, target_type, COALESCE(after, before)->>'orgId' AS org FROM audit_log
        WHERE target_id = $1 AND action LIKE 'subscription.%' ORDER BY at`,
      [orgId],
    );
    expect(audit.rows).toEqual([
      { action: 'subscription.set', target_type: 'org', org: orgId },
      { action: 'subscription.delete', target_type: 'org', org: orgId },
    ]);
    const bad = await t.http.put(`/api/orgs/${orgId}/subscription`).set(sup.auth).send({ planId: 'NOPE!' });
    expect(bad.status).toBe(400);
    const unknownPlan = await t.http
      .put(`/api/orgs/${orgId}/subscription`)
      .set(sup.auth)
      .send({ planId: 'no-such-plan' });
    expect(unknownPlan.status).toBe(404);
  });

  it('a renewal of an org subscription grants the next period to the org, with its rollover', async () => {
    const { orgId } = await newOrg();
    const planId = uniqueId('or').toLowerCase();
    await t.http
      .post('/api/plans')
      .set(admin.auth)
      .send({ id: planId, name: 'Weekly', credits: 100, period: 'week', rolloverCap: 30 })
      .expect(201);
    await t.http.put(`/api/orgs/${orgId}/subscription`).set(sup.auth).send({ planId }).expect(200);
    const { rows } = await t.db.query(
      `SELECT id, account_id FROM subscriptions WHERE org_id = $1 AND ended_at IS NULL`,
      [orgId],
    );
    const subscriptions = t.app.get(SubscriptionsService);
    // Renew this subscription only (the job would renew every due one of the shared database).
    const nextWeek = new Date(Date.now() + 7 * 86_400_000 + 60_000);
    expect(await subscriptions.renewDue(rows[0].id, rows[0].account_id, nextWeek)).toBe(true);
    const { rows: allocations } = await t.db.query(
      `SELECT source, total_credits, account_user_id(account_id) AS user_id FROM credit_allocations
        WHERE account_id = (SELECT account_id FROM accounts WHERE org_id = $1::varchar) ORDER BY allocated_at`,
      [orgId],
    );
    expect(allocations).toEqual([
      { source: 'plan', total_credits: 100, user_id: null },
      { source: 'rollover', total_credits: 30, user_id: null },
      { source: 'plan', total_credits: 100, user_id: null },
    ]);
    const renewed = await t.db.query(
      `SELECT data FROM events WHERE type = 'subscription.renewed' AND data->>'orgId' = $1`,
      [orgId],
    );
    expect(renewed.rows).toHaveLength(1);
    expect(renewed.rows[0].data).toMatchObject({ orgId, userId: null, planId });
  });
});
