import { randomUUID } from 'node:crypto';

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { bearer, startTestApp, type TestApp, uniqueId } from './support/app.js';
import { Fixtures, type FixtureUser, tokenFor } from './support/fixtures.js';
import { expectInvariants } from './support/invariants.js';

/**
 * Budgets by scope (docs/budgets.md): the routes' rules, the engine's refusals (BUDGET_EXCEEDED with
 * the budget's state), chains, raises, expiry, periods and holds. Prices: a model of this file at 10
 * credits per 1k tokens, so a session of 1000 estimated tokens holds 12 and settles 450 tokens at 5.
 */
describe('budgets by scope', () => {
  let t: TestApp;
  let f: Fixtures;
  const users: string[] = [];
  const model = `budgets-${randomUUID().slice(0, 8)}`;
  const admin = bearer(tokenFor('admin', 'budgets-admin'));
  const supervisor = bearer(tokenFor('supervisor', 'budgets-supervisor'));

  beforeAll(async () => {
    t = await startTestApp();
    f = new Fixtures(t, { users, prefix: 'bg' });
    await t.http
      .post('/api/pricing')
      .set(admin)
      .send({ modelId: model, pricePer1kTokens: '10', outputPricePer1kTokens: '10' })
      .expect(201);
  });
  afterAll(() => t.close());
  afterEach(async () => {
    await expectInvariants(t, users);
  });

  const id = (prefix = 'b') => uniqueId(prefix).toLowerCase();
  const create = (auth: Record<string, string>, body: Record<string, unknown>) =>
    t.http.post('/api/budgets').set(auth).send(body);
  const budget = async (auth: Record<string, string>, body: Record<string, unknown>) => {
    const res = await create(auth, body);
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body as Record<string, unknown>;
  };
  const view = async (budgetId: string) =>
    (await t.http.get(`/api/budgets/${budgetId}`).set(admin).expect(200)).body as Record<string, number | string>;
  const record = (u: FixtureUser, credits: number, scopes?: Record<string, unknown>) =>
    t.http
      .post('/api/usage/record')
      .set(u.auth)
      .send({ service: 'chat', operation: 'completion', credits, ...(scopes ? { scopes } : {}) });
  const records = async (userId: string) =>
    Number((await t.db.query(`SELECT count(*)::int AS n FROM usage_records WHERE user_id = $1`, [userId])).rows[0].n);

  describe('creation', () => {
    it('answers 201, the same body again 200, another body 409 BUDGET_EXISTS', async () => {
      const u = await f.newUser({ credits: 1 });
      const body = { budgetId: id(), userId: u.id, scope: { kind: 'project', id: 'alpha' }, limitCredits: 50 };
      const first = await create(admin, body);
      expect(first.status, JSON.stringify(first.body)).toBe(201);
      expect(first.body).toMatchObject({
        budgetId: body.budgetId,
        userId: u.id,
        scope: { kind: 'project', id: 'alpha' },
        parentBudgetId: null,
        limitCredits: 50,
        period: 'lifetime',
        expiresAt: null,
        expired: false,
        used: 0,
        held: 0,
        remaining: 50,
        periodStart: null,
        resetsAt: null,
      });
      const again = await create(admin, body);
      expect(again.status).toBe(200);
      expect(again.body).toEqual(first.body);
      const other = await create(admin, { ...body, limitCredits: 51 });
      expect(other.status).toBe(409);
      expect(other.body.code).toBe('BUDGET_EXISTS');
      // The scope has a budget on the account already.
      const sameScope = await create(admin, { ...body, budgetId: id() });
      expect(sameScope.status).toBe(409);
      expect(sameScope.body.code).toBe('BUDGET_EXISTS');
    });

    it('refuses bad input with 400 and writes nothing', async () => {
      const u = await f.newUser({ credits: 1 });
      const ok = { budgetId: id(), userId: u.id, scope: { kind: 'run', id: 'r-1' }, limitCredits: 5 };
      const bad: Record<string, unknown>[] = [
        { ...ok, budgetId: 'Upper' },
        { ...ok, budgetId: 'x'.repeat(101) },
        { ...ok, budgetId: 'a b' },
        { ...ok, scope: { kind: 'team', id: 'x' } },
        { ...ok, scope: { kind: 'run', id: '' } },
        { ...ok, scope: { kind: 'run', id: 'x'.repeat(201) } },
        { ...ok, scope: { kind: 'run', id: 'x', extra: 1 } },
        { ...ok, scope: undefined },
        { ...ok, limitCredits: -1 },
        { ...ok, limitCredits: 1.5 },
        { ...ok, limitCredits: '5' },
        { ...ok, limitCredits: 2 ** 60 },
        { ...ok, period: 'year' },
        { ...ok, expiresAt: '2026-02-30' },
        { ...ok, orgId: 'acme' },
        { ...ok, colour: 'red' },
        { ...ok, parentBudgetId: 'no-such-budget' },
      ];
      for (const body of bad) {
        const res = await create(admin, body);
        expect(res.status, JSON.stringify(body)).toBe(400);
      }
      const n = await t.db.query(
        `SELECT count(*)::int AS n FROM credit_budgets b JOIN accounts a ON a.account_id = b.account_id WHERE a.user_id = $1`,
        [u.id],
      );
      expect(n.rows[0].n).toBe(0);
    });

    it('needs a parent of the same account, and at most 5 budgets in a chain', async () => {
      const u = await f.newUser({ credits: 1 });
      const other = await f.newUser({ credits: 1 });
      const foreign = await budget(admin, {
        budgetId: id(),
        userId: other.id,
        scope: { kind: 'project', id: 'p' },
        limitCredits: 10,
      });
      const across = await create(admin, {
        budgetId: id(),
        userId: u.id,
        scope: { kind: 'run', id: 'r' },
        parentBudgetId: foreign.budgetId,
        limitCredits: 5,
      });
      expect(across.status).toBe(400);
      let parent: string | undefined;
      for (let depth = 1; depth <= 5; depth++) {
        const b = await budget(admin, {
          budgetId: id(),
          userId: u.id,
          scope: { kind: 'tag', id: `level-${depth}` },
          ...(parent ? { parentBudgetId: parent } : {}),
          limitCredits: 100,
        });
        parent = b.budgetId as string;
      }
      const sixth = await create(admin, {
        budgetId: id(),
        userId: u.id,
        scope: { kind: 'tag', id: 'level-6' },
        parentBudgetId: parent,
        limitCredits: 100,
      });
      expect(sixth.status).toBe(400);
      expect(sixth.body.message).toContain('at most 5');
    });
  });

  describe('enforcement', () => {
    it('refuses a write its budget cannot cover: 402 BUDGET_EXCEEDED with used and held, nothing written', async () => {
      const u = await f.newUser({ credits: 1000 });
      const b = await budget(u.auth, { budgetId: id(), scope: { kind: 'project', id: 'alpha' }, limitCredits: 30 });
      expect((await record(u, 20, { project: 'alpha' })).status).toBe(201);
      const before = await f.available(u.id);
      const refused = await record(u, 11, { project: 'alpha', tag: ['x'] });
      expect(refused.status, JSON.stringify(refused.body)).toBe(402);
      expect(refused.body).toMatchObject({
        code: 'BUDGET_EXCEEDED',
        budgetId: b.budgetId,
        limit: 30,
        used: 20,
        held: 0,
      });
      expect(await f.available(u.id)).toBe(before);
      expect(await records(u.id)).toBe(1);
      // Exactly the room left passes; another scope, or none, is not capped.
      expect((await record(u, 10, { project: 'alpha' })).status).toBe(201);
      expect((await record(u, 50, { project: 'beta' })).status).toBe(201);
      expect((await record(u, 50)).status).toBe(201);
      expect(await view(b.budgetId as string)).toMatchObject({ used: 30, held: 0, remaining: 0 });
    });

    it('keeps a child within the least room of its chain', async () => {
      const u = await f.newUser({ credits: 1000 });
      const project = await budget(u.auth, { budgetId: id(), scope: { kind: 'project', id: 'p' }, limitCredits: 40 });
      const run = await budget(u.auth, {
        budgetId: id(),
        scope: { kind: 'run', id: 'r-1' },
        parentBudgetId: project.budgetId,
        limitCredits: 100,
      });
      expect(run.remaining).toBe(40);
      // The run alone names its parent's budget too: 35 of the project's 40 are used through it.
      expect((await record(u, 35, { run: 'r-1' })).status).toBe(201);
      const refused = await record(u, 6, { run: 'r-1' });
      expect(refused.status).toBe(402);
      expect(refused.body).toMatchObject({ budgetId: project.budgetId, limit: 40, used: 35 });
      expect(await view(run.budgetId as string)).toMatchObject({ used: 35, remaining: 5 });
      expect(await view(project.budgetId as string)).toMatchObject({ used: 35, remaining: 5 });
    });

    it('admits the next write at once when raised, and never resets used', async () => {
      const u = await f.newUser({ credits: 1000 });
      const b = await budget(u.auth, { budgetId: id(), scope: { kind: 'session', id: 's-1' }, limitCredits: 10 });
      expect((await record(u, 10, { session: 's-1' })).status).toBe(201);
      expect((await record(u, 5, { session: 's-1' })).status).toBe(402);
      const raised = await t.http
        .patch(`/api/budgets/${b.budgetId}`)
        .set(u.auth)
        .send({ limitCredits: 15 })
        .expect(200);
      expect(raised.body).toMatchObject({ limitCredits: 15, used: 10, remaining: 5 });
      expect((await record(u, 5, { session: 's-1' })).status).toBe(201);
      const lowered = await t.http
        .patch(`/api/budgets/${b.budgetId}`)
        .set(u.auth)
        .send({ limitCredits: 1 })
        .expect(200);
      expect(lowered.body).toMatchObject({ limitCredits: 1, used: 15, remaining: 0 });
      expect((await t.http.patch(`/api/budgets/${b.budgetId}`).set(u.auth).send({ limitCredits: -1 })).status).toBe(
        400,
      );
    });

    it('refuses nothing after expiresAt and lists it as expired', async () => {
      const u = await f.newUser({ credits: 1000 });
      const b = await budget(u.auth, {
        budgetId: id(),
        scope: { kind: 'tag', id: 'eval' },
        limitCredits: 5,
        expiresAt: '2099-01-01T00:00:00Z',
      });
      expect((await record(u, 6, { tag: ['eval'] })).status).toBe(402);
      await t.db.query(`UPDATE credit_budgets SET expires_at = now() - interval '1 second' WHERE budget_id = $1`, [
        b.budgetId,
      ]);
      expect((await record(u, 6, { tag: ['eval'] })).status).toBe(201);
      const list = await t.http.get('/api/budgets').set(u.auth).expect(200);
      expect(list.body.items).toEqual([expect.objectContaining({ budgetId: b.budgetId, expired: true })]);
      expect(list.body.nextCursor).toBeNull();
    });

    it('restarts a period budget at the UTC period start', async () => {
      const u = await f.newUser({ credits: 1000 });
      const b = await budget(u.auth, {
        budgetId: id(),
        scope: { kind: 'project', id: 'daily' },
        limitCredits: 10,
        period: 'day',
      });
      const today = new Date();
      const dayStart = new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate()));
      expect(b.periodStart).toBe(dayStart.toISOString());
      expect(b.resetsAt).toBe(new Date(dayStart.getTime() + 86_400_000).toISOString());
      // Yesterday's count, at the limit: another period, so it counts nothing today.
      await t.db.query(
        `UPDATE credit_budgets SET spent = 10, spent_start = date_trunc('day', now(), 'UTC') - interval '1 day'
          WHERE budget_id = $1`,
        [b.budgetId],
      );
      expect(await view(b.budgetId as string)).toMatchObject({ used: 0 });
      expect((await record(u, 10, { project: 'daily' })).status).toBe(201);
      expect((await record(u, 1, { project: 'daily' })).status).toBe(402);
      expect(await view(b.budgetId as string)).toMatchObject({ used: 10 });
    });

    it('counts a session’s hold as held, gives back what it did not use, and charges the overrun', async () => {
      const u = await f.newUser({ credits: 1000 });
      const b = await budget(u.auth, { budgetId: id(), scope: { kind: 'run', id: 'agent-1' }, limitCredits: 20 });
      const init = (sessionId: string) =>
        t.http
          .post('/api/streaming-sessions/initialize')
          .set(u.auth)
          .send({ modelId: model, sessionId, estimatedTokens: 1000, scopes: { run: 'agent-1' } });
      const s1 = `s-${randomUUID()}`;
      expect((await init(s1)).status).toBe(201);
      expect(await view(b.budgetId as string)).toMatchObject({ used: 0, held: 12, remaining: 8 });
      const refused = await init(`s-${randomUUID()}`);
      expect(refused.status).toBe(402);
      expect(refused.body).toMatchObject({ code: 'BUDGET_EXCEEDED', limit: 20, used: 0, held: 12 });
      await t.http
        .post('/api/streaming-sessions/finalize')
        .set(u.auth)
        .send({ sessionId: s1, actualTokens: 450 })
        .expect(200);
      expect(await view(b.budgetId as string)).toMatchObject({ used: 5, held: 0, remaining: 15 });
      // An overrun is charged, never refused, and counts.
      const s2 = `s-${randomUUID()}`;
      expect((await init(s2)).status).toBe(201);
      await t.http
        .post('/api/streaming-sessions/finalize')
        .set(u.auth)
        .send({ sessionId: s2, actualTokens: 1500 })
        .expect(200);
      expect(await view(b.budgetId as string)).toMatchObject({ used: 20, held: 0, remaining: 0 });
    });

    it('keeps the scopes on the record and tells budget.reached once per period', async () => {
      const u = await f.newUser({ credits: 1000 });
      const b = await budget(u.auth, { budgetId: id(), scope: { kind: 'project', id: 'tell' }, limitCredits: 10 });
      const first = await record(u, 10, { project: 'tell', tag: ['a', 'b'], run: 'r', session: 's' });
      expect(first.status).toBe(201);
      expect(first.body.scopes).toEqual({ project: 'tell', tag: ['a', 'b'], run: 'r', session: 's' });
      expect((await record(u, 1, { project: 'tell' })).status).toBe(402);
      expect((await record(u, 0, { project: 'tell' })).status).toBe(201);
      const events = await t.db.query(
        `SELECT data FROM events WHERE type = 'budget.reached' AND data->>'budgetId' = $1`,
        [b.budgetId],
      );
      expect(events.rows.map((r) => r.data)).toEqual([
        expect.objectContaining({
          budgetId: b.budgetId,
          userId: u.id,
          scope: { kind: 'project', id: 'tell' },
          limit: 10,
          used: 10,
        }),
      ]);
    });
  });

  describe('telling', () => {
    it('tells budget.reached on the first refusal in a period too, once', async () => {
      const u = await f.newUser({ credits: 1000 });
      const b = await budget(u.auth, { budgetId: id(), scope: { kind: 'run', id: 'refused' }, limitCredits: 5 });
      expect((await record(u, 6, { run: 'refused' })).status).toBe(402);
      expect((await record(u, 7, { run: 'refused' })).status).toBe(402);
      const events = await t.db.query(
        `SELECT data FROM events WHERE type = 'budget.reached' AND data->>'budgetId' = $1`,
        [b.budgetId],
      );
      expect(events.rows.map((r) => r.data)).toEqual([
        expect.objectContaining({ budgetId: b.budgetId, limit: 5, used: 0, scope: { kind: 'run', id: 'refused' } }),
      ]);
    });
  });

  describe('stats by scope', () => {
    it('answers credits per project, tag, run and session equal to the ledger’s sums over random records', async () => {
      const u = await f.newUser({ credits: 100_000 });
      const pick = <T>(xs: T[]) => xs[Math.floor(Math.random() * xs.length)];
      for (let i = 0; i < 40; i++) {
        const scopes: Record<string, unknown> = {};
        if (Math.random() < 0.8) scopes.project = pick(['p1', 'p2', 'p3']);
        if (Math.random() < 0.5) scopes.tag = [...new Set([pick(['t1', 't2']), pick(['t2', 't3'])])];
        if (Math.random() < 0.6) scopes.run = pick(['r1', 'r2']);
        if (Math.random() < 0.6) scopes.session = pick(['s1', 's2', 's3']);
        expect((await record(u, 1 + Math.floor(Math.random() * 50), scopes)).status).toBe(201);
      }
      for (const [kind, key] of [
        ['project', 'r.scope_project'],
        ['tag', 'unnest(r.scope_tags)'],
        ['run', 'r.scope_run'],
        ['session', 'r.scope_session'],
      ]) {
        const ledger = await t.db.query(
          `SELECT s.key, sum(s.spent)::int AS credits
             FROM (SELECT ${key} AS key, (SELECT -sum(l.amount) FROM credit_ledger l WHERE l.usage_record_id = r.id) AS spent
                     FROM usage_records r WHERE r.user_id = $1) s
            WHERE s.key IS NOT NULL GROUP BY s.key`,
          [u.id],
        );
        const stats = await t.http.get(`/api/usage/stats?groupBy=${kind}`).set(u.auth).expect(200);
        expect(stats.body.byScope, kind).toEqual(Object.fromEntries(ledger.rows.map((r) => [r.key, r.credits])));
        expect(Object.keys(stats.body.byScope).length, kind).toBeGreaterThan(0);
      }
      expect((await t.http.get('/api/usage/stats?groupBy=team').set(u.auth)).status).toBe(400);
    });
  });

  describe('who may set them', () => {
    it('lets the user, their credits:read key, staff and an org’s readers; not others', async () => {
      const u = await f.newUser();
      const stranger = await f.newUser();
      const body = () => ({ budgetId: id(), userId: u.id, scope: { kind: 'tag', id: id('t') }, limitCredits: 1 });
      expect((await create(u.auth, body())).status).toBe(201);
      expect((await create(supervisor, body())).status).toBe(201);
      expect((await create(stranger.auth, body())).status).toBe(404);
      const reader = await f.apiKey(u, { permissions: ['credits:read'] });
      expect((await create({ 'X-API-Key': reader.key }, body())).status).toBe(201);
      const writer = await f.apiKey(u, { permissions: ['usage:write'] });
      expect((await create({ 'X-API-Key': writer.key }, body())).status).toBe(403);
      const mine = await budget(u.auth, body());
      expect((await t.http.get(`/api/budgets/${mine.budgetId}`).set(stranger.auth)).status).toBe(404);
      expect(
        (await t.http.patch(`/api/budgets/${mine.budgetId}`).set(stranger.auth).send({ limitCredits: 9 })).status,
      ).toBe(404);
      expect((await t.http.delete(`/api/budgets/${mine.budgetId}`).set(stranger.auth)).status).toBe(404);
      expect((await t.http.delete(`/api/budgets/${mine.budgetId}`).set(u.auth)).status).toBe(204);
      expect((await t.http.get(`/api/budgets/${mine.budgetId}`).set(u.auth)).status).toBe(404);

      const orgId = id('org');
      await t.db.query(`INSERT INTO orgs (org_id, name, created_by) VALUES ($1, $1, 'admin')`, [orgId]);
      const billing = await f.newUser();
      const member = await f.newUser();
      await t.db.query(
        `INSERT INTO org_members (org_id, user_id, role) VALUES ($1, $2, 'billing'), ($1, $3, 'member')`,
        [orgId, billing.id, member.id],
      );
      const orgBody = () => ({ budgetId: id(), orgId, scope: { kind: 'project', id: id('p') }, limitCredits: 1 });
      const made = await create(billing.auth, orgBody());
      expect(made.status, JSON.stringify(made.body)).toBe(201);
      expect(made.body.orgId).toBe(orgId);
      expect((await create(member.auth, orgBody())).status).toBe(403);
      expect((await create(stranger.auth, orgBody())).status).toBe(404);
    });

    it('audits staff changes: budget.create, budget.update, budget.delete', async () => {
      const u = await f.newUser();
      const b = await budget(supervisor, {
        budgetId: id(),
        userId: u.id,
        scope: { kind: 'run', id: 'x' },
        limitCredits: 3,
      });
      await t.http.patch(`/api/budgets/${b.budgetId}`).set(supervisor).send({ limitCredits: 4 }).expect(200);
      await t.http.delete(`/api/budgets/${b.budgetId}`).set(supervisor).expect(204);
      const actions = await t.db.query(`SELECT action FROM audit_log WHERE target_id = $1 ORDER BY at, id`, [
        b.budgetId,
      ]);
      expect(actions.rows.map((r) => r.action)).toEqual(['budget.create', 'budget.update', 'budget.delete']);
    });
  });
});
