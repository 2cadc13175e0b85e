import { randomUUID } from 'node:crypto';

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { bearer, startTestApp, type TestApp, uniqueId } from './support/app.js';
import { Fixtures, tokenFor } from './support/fixtures.js';
import { expectInvariants } from './support/invariants.js';

/**
 * Budgets by scope through a batch (docs/budgets.md "No overshoot"): each event's chain is read under
 * the lock and counts the events before it in the same batch; a parent two scopes of one event share
 * counts that event once; a refused event moves nothing and the later ones still apply.
 */
describe('budgets by scope in a batch', () => {
  let t: TestApp;
  let f: Fixtures;
  const users: string[] = [];
  const admin = bearer(tokenFor('admin', 'budgets-batch-admin'));

  beforeAll(async () => {
    t = await startTestApp();
    f = new Fixtures(t, { users, prefix: 'bb' });
  });
  afterAll(() => t.close());
  afterEach(async () => {
    await expectInvariants(t, users);
  });

  const id = () => uniqueId('bb').toLowerCase();
  const budget = async (body: Record<string, unknown>) => {
    const res = await t.http.post('/api/budgets').set(admin).send(body);
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body.budgetId as string;
  };
  const used = async (budgetId: string) =>
    ((await t.http.get(`/api/budgets/${budgetId}`).set(admin).expect(200)).body as { used: number }).used;

  it('counts each event against its chain in order, a shared parent once an event', async () => {
    const u = await f.newUser({ credits: 1000 });
    const project = await budget({
      budgetId: id(),
      userId: u.id,
      scope: { kind: 'project', id: 'p' },
      limitCredits: 10,
    });
    const run = await budget({
      budgetId: id(),
      userId: u.id,
      scope: { kind: 'run', id: 'r' },
      parentBudgetId: project,
      limitCredits: 6,
    });
    const tag = await budget({
      budgetId: id(),
      userId: u.id,
      scope: { kind: 'tag', id: 't' },
      parentBudgetId: project,
      limitCredits: 100,
    });
    const events: [number, Record<string, unknown>][] = [
      [4, { run: 'r' }], // run 4, project 4
      [3, { run: 'r' }], // run would be 7 of 6
      [5, { tag: ['t'], run: 'r' }], // run would be 9 of 6
      [5, { tag: ['t'] }], // tag 5, project 9
      [2, { project: 'p' }], // project would be 11 of 10
      [1, { project: 'p', tag: ['t'], run: 'r' }], // project 10 (once, not three times), tag 6, run 5
      [1, { run: 'other' }], // a scope without a budget: only recorded
    ];
    const res = await t.http
      .post('/api/usage/records/batch')
      .set(u.auth)
      .send({
        events: events.map(([credits, scopes]) => ({
          eventId: randomUUID(),
          service: 'chat',
          operation: 'completion',
          credits,
          scopes,
        })),
      })
      .expect(200);
    const results = res.body.results as { status: string; error?: string }[];
    // A refused event of a batch answers its code in `error` (the batch's statuses are its own).
    expect(results.map((r) => (r.status === 'created' ? 'created' : r.error))).toEqual([
      'created',
      `BUDGET_EXCEEDED: Budget ${run} cannot cover this write`,
      `BUDGET_EXCEEDED: Budget ${run} cannot cover this write`,
      'created',
      `BUDGET_EXCEEDED: Budget ${project} cannot cover this write`,
      'created',
      'created',
    ]);
    expect(await used(project)).toBe(10);
    expect(await used(run)).toBe(5);
    expect(await used(tag)).toBe(6);
    expect(await f.available(u.id)).toBe(1000 - 4 - 5 - 1 - 1);
  });
});
