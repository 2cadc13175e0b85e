import { randomUUID } from 'node:crypto';

import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { AccountIds } from '../src/accounts/account-ids.js';
import { AutoRechargeAttempts } from '../src/engine/auto-recharge/auto-recharge-attempts.service.js';
import { startTestApp, type TestApp } from './support/app.js';
import { Fixtures, type FixtureUser, principal } from './support/fixtures.js';
import { expectInvariants } from './support/invariants.js';

/**
 * Auto-recharge over HTTP (docs/auto-recharge.md): who may set and read
 * it, bad input changing nothing, the attempt a crossing charge opens (exactly one for parallel
 * records), the fail route for service principals, and three failures in a row turning it off. The
 * engine's rules (interval, monthly cap, batch, hold, overrun, orgs) are in test/auto-recharge.int-spec.ts.
 */
describe('auto-recharge', () => {
  let t: TestApp;
  let f: Fixtures;
  const users: string[] = [];
  const admin = principal('admin', 'ar-admin');
  const supervisor = principal('supervisor', 'ar-sup');
  let serviceKey: string;

  beforeAll(async () => {
    t = await startTestApp();
    f = new Fixtures(t, { users, prefix: 'ar' });
    await t.http.get('/api/users/me').set(admin.auth).expect(200);
    await t.http.get('/api/users/me').set(supervisor.auth).expect(200);
    serviceKey = (await f.apiKey(admin, { name: 'billing service', permissions: ['usage:ingest'] })).key;
  });
  afterAll(() => t?.close());

  const put = (caller: { Authorization: string }, body: Record<string, unknown>) =>
    t.http.put('/api/credits/auto-recharge').set(caller).send(body);
  const get = (caller: { Authorization: string }, query: Record<string, string> = {}) =>
    t.http.get('/api/credits/auto-recharge').set(caller).query(query);
  const failAttempt = (headers: Record<string, string>, id: string, body: Record<string, unknown> = {}) =>
    t.http.post(`/api/credits/auto-recharge/attempts/${id}/fail`).set(headers).send(body);
  const events = async (userId: string) =>
    (
      await t.db.query<{ type: string; data: Record<string, unknown> }>(
        `SELECT type, data FROM events WHERE user_id = $1 AND type LIKE 'auto_recharge.%' ORDER BY created_at, id`,
        [userId],
      )
    ).rows;
  const auditOf = async (action: string, targetId: string) =>
    (
      await t.db.query<{ actor_user_id: string; before: unknown; after: Record<string, unknown> }>(
        `SELECT actor_user_id, before, after FROM audit_log WHERE action = $1 AND target_id = $2 ORDER BY at, id`,
        [action, targetId],
      )
    ).rows;

  it('a user sets and reads their own; the answer and the audit entry say it', async () => {
    const u = await f.newUser();
    const never = await get(u.auth).expect(200);
    expect(never.body).toEqual({
      userId: u.id,
      enabled: false,
      belowCredits: null,
      rechargeCredits: null,
      maxCreditsPerMonth: null,
      minIntervalMinutes: 60,
      consecutiveFailures: 0,
      attempts: [],
    });
    const res = await put(u.auth, { userId: u.id, enabled: true, belowCredits: 100, rechargeCredits: 1000 }).expect(
      200,
    );
    const view = {
      userId: u.id,
      enabled: true,
      belowCredits: 100,
      rechargeCredits: 1000,
      maxCreditsPerMonth: null,
      minIntervalMinutes: 60,
      consecutiveFailures: 0,
      attempts: [],
    };
    expect(res.body).toEqual(view);
    expect((await get(u.auth, { userId: u.id }).expect(200)).body).toEqual(view);
    const [{ recharge_below }] = (
      await t.db.query(
        `SELECT recharge_below FROM credit_accounts WHERE account_id = (SELECT account_id FROM accounts WHERE user_id = $1)`,
        [u.id],
      )
    ).rows;
    expect(recharge_below).toBe(100);
    const entries = await auditOf('auto_recharge.set', u.id);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ actor_user_id: u.id, before: null, after: { userId: u.id, belowCredits: 100 } });
    // Off: the threshold leaves the takes.
    await put(u.auth, { userId: u.id, enabled: false, belowCredits: 100, rechargeCredits: 1000 }).expect(200);
    const [{ recharge_below: off }] = (
      await t.db.query(
        `SELECT recharge_below FROM credit_accounts WHERE account_id = (SELECT account_id FROM accounts WHERE user_id = $1)`,
        [u.id],
      )
    ).rows;
    expect(off).toBeNull();
  });

  it('another user’s: 404 for a user (as for none), allowed for a supervisor; unknown user 404', async () => {
    const owner = await f.newUser();
    const other = await f.newUser();
    const body = { userId: owner.id, enabled: true, belowCredits: 10, rechargeCredits: 50 };
    expect((await put(other.auth, body).expect(404)).body.code).toBe('NOT_FOUND');
    expect((await get(other.auth, { userId: owner.id }).expect(404)).body.code).toBe('NOT_FOUND');
    expect((await get(owner.auth)).body.enabled).toBe(false);
    await put(supervisor.auth, body).expect(200);
    expect((await get(owner.auth)).body).toMatchObject({ enabled: true, belowCredits: 10, rechargeCredits: 50 });
    expect((await auditOf('auto_recharge.set', owner.id))[0].actor_user_id).toBe(supervisor.id);
    await put(supervisor.auth, { ...body, userId: `nobody-${randomUUID()}` }).expect(404);
    // An API key (even the owner's, with every scope) cannot change it; it can read it with credits:read.
    const key = await f.apiKey(owner);
    await put({ 'X-API-Key': key.key } as never, body).expect(403);
    expect((await get({ 'X-API-Key': key.key } as never).expect(200)).body.userId).toBe(owner.id);
  });

  it('bad input is a 400 that changes nothing', async () => {
    const u = await f.newUser();
    const good = { userId: u.id, enabled: true, belowCredits: 100, rechargeCredits: 200, maxCreditsPerMonth: 1000 };
    await put(u.auth, good).expect(200);
    const before = (await get(u.auth)).body;
    const bad: Array<Record<string, unknown>> = [
      { ...good, belowCredits: -1 },
      { ...good, rechargeCredits: 0 },
      { ...good, rechargeCredits: 2_147_483_648 },
      { ...good, maxCreditsPerMonth: 0 },
      { ...good, maxCreditsPerMonth: 199 },
      { ...good, minIntervalMinutes: -5 },
      { ...good, minIntervalMinutes: 1.5 },
      { ...good, enabled: 'yes' },
      { ...good, orgId: 'acme' },
      { ...good, userId: undefined },
      { ...good, extra: 1 },
      { enabled: true, userId: u.id },
    ];
    for (const body of bad) {
      const res = await put(u.auth, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
    }
    expect((await get(u.auth)).body).toEqual(before);
    expect(await auditOf('auto_recharge.set', u.id)).toHaveLength(1);
    await get(u.auth, { userId: u.id, orgId: 'acme' }).expect(400);
    await failAttempt({ 'X-API-Key': serviceKey }, 'not-a-uuid').expect(400);
  });

  it('10 parallel records crossing the threshold open exactly one attempt and emit one event', async () => {
    const u = await f.newUser({ credits: 100 });
    await put(u.auth, { userId: u.id, enabled: true, belowCredits: 50, rechargeCredits: 500 }).expect(200);
    const results = await Promise.all(Array.from({ length: 10 }, () => f.recordUsage(u, 8)));
    expect(results.map((r) => r.status)).toEqual(Array(10).fill(201));
    expect(await f.available(u.id)).toBe(20);
    const view = (await get(u.auth)).body;
    expect(view.attempts).toHaveLength(1);
    expect(view.attempts[0]).toMatchObject({ credits: 500, status: 'open', closedAt: null });
    expect(await events(u.id)).toEqual([
      { type: 'auto_recharge.requested', data: { attemptId: view.attempts[0].id, userId: u.id, credits: 500 } },
    ]);
    await expectInvariants(t, [u.id]);
  });

  it('the fail route is for service principals; three failures in a row turn auto-recharge off', async () => {
    const u = await f.newUser({ credits: 1000 });
    // An interval of 0 is staff's to set (a user's own is at least 5 minutes).
    await put(supervisor.auth, {
      userId: u.id,
      enabled: true,
      belowCredits: 1000,
      rechargeCredits: 100,
      minIntervalMinutes: 0,
    }).expect(200);
    const service = { 'X-API-Key': serviceKey };
    const openOne = async () => {
      await f.recordUsage(u, 1).expect(201);
      const open = (await get(u.auth)).body.attempts.filter((a: { status: string }) => a.status === 'open');
      expect(open).toHaveLength(1);
      return open[0].id as string;
    };
    const first = await openOne();
    // Not a service principal: the user, a supervisor, the user's own key.
    expect((await failAttempt(u.auth, first).expect(403)).body.code).toBe('FORBIDDEN');
    await failAttempt(supervisor.auth, first).expect(403);
    const own = await f.apiKey(u);
    await failAttempt({ 'X-API-Key': own.key }, first).expect(403);
    await failAttempt(service, randomUUID()).expect(404);
    expect((await get(u.auth)).body.attempts[0].status).toBe('open');

    const failed = await failAttempt(service, first, { reason: 'card_declined' }).expect(200);
    expect(failed.body).toMatchObject({
      id: first,
      userId: u.id,
      credits: 100,
      status: 'failed',
      reason: 'card_declined',
      autoRechargeEnabled: true,
    });
    expect(failed.body.closedAt).not.toBeNull();
    // Again: the same answer, nothing more.
    expect((await failAttempt(service, first).expect(200)).body.status).toBe('failed');
    expect(await auditOf('auto_recharge.fail', first)).toHaveLength(1);

    await failAttempt({ Authorization: admin.auth.Authorization }, await openOne()).expect(200);
    expect((await get(u.auth)).body.consecutiveFailures).toBe(2);
    const third = await openOne();
    const last = await failAttempt(service, third).expect(200);
    expect(last.body.autoRechargeEnabled).toBe(false);
    const view = (await get(u.auth)).body;
    expect(view).toMatchObject({ enabled: false, consecutiveFailures: 3 });
    expect(view.attempts.map((a: { status: string }) => a.status)).toEqual(['failed', 'failed', 'failed']);
    const emitted = await events(u.id);
    expect(emitted.map((e) => e.type)).toEqual([
      'auto_recharge.requested',
      'auto_recharge.requested',
      'auto_recharge.requested',
      'auto_recharge.disabled',
    ]);
    expect(emitted[3].data).toEqual({ attemptId: third, userId: u.id, consecutiveFailures: 3 });
    // Off: a charge far below opens nothing.
    await f.recordUsage(u, 500).expect(201);
    expect((await get(u.auth)).body.attempts).toHaveLength(3);
    await expectInvariants(t, [u.id]);
  });

  it('an organisation’s: supervisors and its managers set it, its readers read it, other members may not', async () => {
    const orgId = `arorg-${randomUUID().slice(0, 8)}`;
    const owner: FixtureUser = await f.newUser();
    const billing = await f.newUser();
    const member = await f.newUser();
    await t.db.query(`INSERT INTO orgs (org_id, name, created_by) VALUES ($1, $1, 'test')`, [orgId]);
    for (const [user, role] of [
      [owner, 'owner'],
      [billing, 'billing'],
      [member, 'member'],
    ] as const) {
      await t.db.query(`INSERT INTO org_members (org_id, user_id, role) VALUES ($1, $2, $3)`, [orgId, user.id, role]);
    }
    const body = { orgId, enabled: true, belowCredits: 500, rechargeCredits: 5000 };
    expect((await put(member.auth, body).expect(403)).body.code).toBe('FORBIDDEN');
    await put(billing.auth, body).expect(403);
    await get(member.auth, { orgId }).expect(403);
    expect((await put(owner.auth, body).expect(200)).body).toEqual({
      orgId,
      enabled: true,
      belowCredits: 500,
      rechargeCredits: 5000,
      maxCreditsPerMonth: null,
      minIntervalMinutes: 60,
      consecutiveFailures: 0,
      attempts: [],
    });
    expect((await get(billing.auth, { orgId }).expect(200)).body.orgId).toBe(orgId);
    await put(supervisor.auth, { ...body, rechargeCredits: 6000 }).expect(200);
    expect((await get(owner.auth, { orgId })).body.rechargeCredits).toBe(6000);
    await put(supervisor.auth, { ...body, orgId: `nope-${randomUUID().slice(0, 8)}` }).expect(404);
    const { rows } = await t.db.query(
      `SELECT c.recharge_below FROM credit_accounts c WHERE c.account_id = (SELECT account_id FROM accounts WHERE org_id = $1)`,
      [orgId],
    );
    expect(rows).toEqual([{ recharge_below: 500 }]);
    // A user who happens to have the org's id is not its account.
    expect((await get(owner.auth)).body).toMatchObject({ userId: owner.id, enabled: false });
  });

  it('the purchase’s two calls: the attempt is checked open and the account’s, then succeeded once', async () => {
    const service = t.app.get(AutoRechargeAttempts);
    const manager = t.app.get(DataSource).manager;
    const u = await f.newUser({ credits: 100 });
    const other = await f.newUser();
    await put(supervisor.auth, {
      userId: u.id,
      enabled: true,
      belowCredits: 100,
      rechargeCredits: 300,
      minIntervalMinutes: 0,
    }).expect(200);
    await f.recordUsage(u, 1).expect(201);
    const first = (await get(u.auth)).body.attempts[0].id as string;
    await failAttempt({ 'X-API-Key': serviceKey }, first).expect(200);
    await f.recordUsage(u, 1).expect(201);
    const id = (await get(u.auth)).body.attempts[0].id as string;
    // The purchase names the attempt's account by its id; another user's, or an id of no account, is not it.
    const ids = t.app.get(AccountIds);
    const mine = (await ids.of(manager, { kind: 'user', ownerId: u.id }))!;

    await expect(service.assertOpen(manager, id, mine)).resolves.toBeUndefined();
    for (const account of [(await ids.of(manager, { kind: 'user', ownerId: other.id }))!, '0']) {
      await expect(service.assertOpen(manager, id, account)).rejects.toMatchObject({ code: 'NOT_FOUND' });
      expect(await service.succeed(manager, id, account)).toBe('not_found');
    }
    await expect(service.assertOpen(manager, randomUUID(), mine)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(service.assertOpen(manager, first, mine)).rejects.toMatchObject({
      code: 'AUTO_RECHARGE_ATTEMPT_CLOSED',
    });

    expect((await get(u.auth)).body.consecutiveFailures).toBe(1);
    expect(await service.succeed(manager, id, mine)).toBe('succeeded');
    expect(await service.succeed(manager, id, mine)).toBe('already_succeeded');
    const view = (await get(u.auth)).body;
    expect(view.consecutiveFailures).toBe(0);
    expect(view.attempts.map((a: { status: string }) => a.status)).toEqual(['succeeded', 'failed']);
    expect(view.attempts[0].closedAt).not.toBeNull();
    await expect(service.assertOpen(manager, id, mine)).rejects.toMatchObject({
      code: 'AUTO_RECHARGE_ATTEMPT_CLOSED',
    });
    // A succeeded attempt cannot fail.
    const res = await failAttempt({ 'X-API-Key': serviceKey }, id).expect(409);
    expect(res.body.code).toBe('AUTO_RECHARGE_ATTEMPT_CLOSED');
  });
});
