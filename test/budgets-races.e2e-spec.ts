import { randomUUID } from 'node:crypto';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { bearer, startTestApp, type TestApp, uniqueId } from './support/app.js';
import { Fixtures, type FixtureUser, tokenFor } from './support/fixtures.js';
import { expectInvariants } from './support/invariants.js';

/**
 * Budgets by scope under concurrency, on two app instances at once (docs/budgets.md "No
 * overshoot"): parallel holds against a session budget, parallel writes under a run budget and its
 * project's, and raises racing writes. What is held and charged under a budget never passes it.
 * Prices: a model of this file at 10 credits per 1k tokens, so 1000 estimated tokens hold 12.
 */
describe('budgets by scope on two instances', () => {
  let a: TestApp;
  let b: TestApp;
  let f: Fixtures;
  const users: string[] = [];
  const model = `budget-races-${randomUUID().slice(0, 8)}`;

  beforeAll(async () => {
    [a, b] = await Promise.all([startTestApp(), startTestApp()]);
    f = new Fixtures(a, { users, prefix: 'bgr' });
    await a.http
      .post('/api/pricing')
      .set(bearer(tokenFor('admin', 'budget-races-admin')))
      .send({ modelId: model, pricePer1kTokens: '10', outputPricePer1kTokens: '10' })
      .expect(201);
  });
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
  });

  const app = (i: number) => (i % 2 ? a : b);
  const newBudget = async (u: FixtureUser, body: Record<string, unknown>) => {
    const res = await a.http
      .post('/api/budgets')
      .set(u.auth)
      .send({ budgetId: uniqueId('race').toLowerCase(), ...body });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body as { budgetId: string };
  };
  const view = async (budgetId: string) =>
    (
      await a.http
        .get(`/api/budgets/${budgetId}`)
        .set(bearer(tokenFor('admin', 'budget-races-admin')))
        .expect(200)
    ).body as { used: number; held: number };
  /** What the ledger holds and charged under a scope: hold lines of its sessions still open plus its records. */
  const chargedUnder = async (userId: string, column: string, id: string) =>
    Number(
      (
        await a.db.query(
          `SELECT COALESCE(sum(credits), 0)::int AS n FROM usage_records WHERE user_id = $1 AND ${column} = $2`,
          [userId, id],
        )
      ).rows[0].n,
    );

  it('200 parallel worst-case holds against a session budget never hold and charge past it', async () => {
    const u = await f.newUser({ credits: 100_000 });
    const limit = 600; // room for 50 holds of 12
    const budget = await newBudget(u, { scope: { kind: 'session', id: 'chat-1' }, limitCredits: limit });
    const sessions = Array.from({ length: 200 }, () => `race-${randomUUID()}`);
    const results = await Promise.all(
      sessions.map((sessionId, i) =>
        app(i)
          .http.post('/api/streaming-sessions/initialize')
          .set(u.auth)
          .send({ modelId: model, sessionId, estimatedTokens: 1000, scopes: { session: 'chat-1' } }),
      ),
    );
    const opened = sessions.filter((_, i) => results[i].status === 201);
    for (const r of results) expect([201, 402], JSON.stringify(r.body)).toContain(r.status);
    for (const r of results.filter((x) => x.status === 402)) expect(r.body.code).toBe('BUDGET_EXCEEDED');
    expect(opened.length).toBe(limit / 12);
    const held = await view(budget.budgetId);
    expect(held.held + held.used).toBeLessThanOrEqual(limit);
    expect(held.held).toBe(opened.length * 12);
    // Each settles at its worst case (all it held): held turns into used, never past the limit.
    await Promise.all(
      opened.map((sessionId, i) =>
        app(i)
          .http.post('/api/streaming-sessions/finalize')
          .set(u.auth)
          .send({ sessionId, actualTokens: 1200 })
          .expect(200),
      ),
    );
    const settled = await view(budget.budgetId);
    expect(settled).toMatchObject({ used: opened.length * 12, held: 0 });
    expect(settled.used).toBeLessThanOrEqual(limit);
    await expectInvariants(a, users);
  });

  it('a run budget under a project budget: 100 parallel writes on each never pass either limit', async () => {
    const u = await f.newUser({ credits: 100_000 });
    const project = await newBudget(u, { scope: { kind: 'project', id: 'p' }, limitCredits: 500 });
    const run = await newBudget(u, {
      scope: { kind: 'run', id: 'r' },
      parentBudgetId: project.budgetId,
      limitCredits: 200,
    });
    const write = (i: number, scopes: Record<string, string>) =>
      app(i)
        .http.post('/api/usage/record')
        .set(u.auth)
        .send({ service: 'chat', operation: 'c', credits: 1 + (i % 7), scopes });
    const results = await Promise.all([
      ...Array.from({ length: 100 }, (_, i) => write(i, { project: 'p', run: 'r' })),
      ...Array.from({ length: 100 }, (_, i) => write(i + 1, { project: 'p' })),
    ]);
    for (const r of results) expect([201, 402], JSON.stringify(r.body)).toContain(r.status);
    const runUsed = await chargedUnder(u.id, 'scope_run', 'r');
    const projectUsed = await chargedUnder(u.id, 'scope_project', 'p');
    expect(runUsed).toBeLessThanOrEqual(200);
    expect(projectUsed).toBeLessThanOrEqual(500);
    expect((await view(run.budgetId)).used).toBe(runUsed);
    expect((await view(project.budgetId)).used).toBe(projectUsed);
    // The writes asked for more than both limits, so both were refused at some point.
    expect(results.some((r) => r.status === 402)).toBe(true);
    await expectInvariants(a, users);
  });

  it('parallel raises and writes: no write is refused after its raise answered', async () => {
    const u = await f.newUser({ credits: 100_000 });
    const budget = await newBudget(u, { scope: { kind: 'tag', id: 'raise' }, limitCredits: 0 });
    const room = 100_000;
    // 50 pairs on both instances: each raises the limit (to the same room), and once its raise has
    // answered writes 5 credits. Every write follows an answered raise, so none may be refused.
    const outcomes = await Promise.all(
      Array.from({ length: 50 }, async (_, i) => {
        const raised = await app(i)
          .http.patch(`/api/budgets/${budget.budgetId}`)
          .set(u.auth)
          .send({ limitCredits: room });
        expect(raised.status).toBe(200);
        return app(i + 1)
          .http.post('/api/usage/record')
          .set(u.auth)
          .send({ service: 'chat', operation: 'c', credits: 5, scopes: { tag: ['raise'] } });
      }),
    );
    for (const r of outcomes) expect(r.status, JSON.stringify(r.body)).toBe(201);
    expect(await view(budget.budgetId)).toMatchObject({ used: 250, held: 0 });
    // Lowered below what was used: refused at once, and raising back admits again; used never resets.
    await a.http.patch(`/api/budgets/${budget.budgetId}`).set(u.auth).send({ limitCredits: 250 }).expect(200);
    const send = (app0: TestApp) =>
      app0.http
        .post('/api/usage/record')
        .set(u.auth)
        .send({ service: 'chat', operation: 'c', credits: 1, scopes: { tag: ['raise'] } });
    expect((await send(b)).status).toBe(402);
    await b.http.patch(`/api/budgets/${budget.budgetId}`).set(u.auth).send({ limitCredits: 251 }).expect(200);
    expect((await send(a)).status).toBe(201);
    expect(await view(budget.budgetId)).toMatchObject({ used: 251 });
    await expectInvariants(a, users);
  });
});
