import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startTestApp, type TestApp, uniqueId } from './support/app.js';
import { Fixtures, principal } from './support/fixtures.js';
import { expectInvariants } from './support/invariants.js';

/**
 * Budget ids belong to an account (docs/budgets.md "Setting budgets"): the same `budgetId` on two accounts
 * is two budgets; staff name the account with `userId=` or `orgId=`, a user or key means its own;
 * another account's budget answers 404 exactly as a missing one; staff name the account on creation;
 * a limit is a PostgreSQL integer.
 */
describe('budget ids per account', () => {
  let t: TestApp;
  let f: Fixtures;
  const users: string[] = [];
  const admin = principal('admin', 'bac-admin');
  const supervisor = principal('supervisor', 'bac-sup');
  const body = (budgetId: string, extra: object = {}) => ({
    budgetId,
    scope: { kind: 'project', id: 'alpha' },
    limitCredits: 100,
    ...extra,
  });

  beforeAll(async () => {
    t = await startTestApp();
    f = new Fixtures(t, { users, prefix: 'bac' });
  });
  afterAll(async () => {
    await expectInvariants(t, users);
    await t.close();
  });

  it('two accounts each have a budget of the same id; a user reaches only its own, another’s is 404 as a missing one', async () => {
    const alice = await f.newUser({ credits: 100 });
    const bob = await f.newUser({ credits: 100 });
    const id = uniqueId('shared').toLowerCase();
    await t.http
      .post('/api/budgets')
      .set(bob.auth)
      .send(body(id, { limitCredits: 7 }))
      .expect(201);
    // Not 409: bob's budget of that id tells alice nothing, and hers is her own.
    const mine = await t.http.post('/api/budgets').set(alice.auth).send(body(id)).expect(201);
    expect(mine.body).toMatchObject({ budgetId: id, userId: alice.id, limitCredits: 100 });

    const bobsOnly = uniqueId('bobs').toLowerCase();
    await t.http
      .post('/api/budgets')
      .set(bob.auth)
      .send(body(bobsOnly, { scope: { kind: 'run', id: 'r' } }))
      .expect(201);
    const missing = uniqueId('none').toLowerCase();
    for (const [method, send] of [
      ['get', undefined],
      ['patch', { limitCredits: 1 }],
      ['delete', undefined],
    ] as const) {
      const theirs = await t.http[method](`/api/budgets/${bobsOnly}`).set(alice.auth).send(send);
      const none = await t.http[method](`/api/budgets/${missing}`).set(alice.auth).send(send);
      expect([theirs.status, none.status]).toEqual([404, 404]);
      expect(theirs.body).toEqual({ ...none.body, requestId: theirs.body.requestId });
    }
    // The shared id means each caller's own.
    expect((await t.http.get(`/api/budgets/${id}`).set(alice.auth).expect(200)).body.limitCredits).toBe(100);
    expect((await t.http.get(`/api/budgets/${id}`).set(bob.auth).expect(200)).body.limitCredits).toBe(7);
    await t.http.patch(`/api/budgets/${id}`).set(alice.auth).send({ limitCredits: 150 }).expect(200);
    expect((await t.http.get(`/api/budgets/${id}`).set(bob.auth).expect(200)).body.limitCredits).toBe(7);
    await t.http.delete(`/api/budgets/${id}`).set(alice.auth).expect(204);
    expect((await t.http.get(`/api/budgets/${id}`).set(bob.auth).expect(200)).body.limitCredits).toBe(7);
  });

  it('staff name the account with userId= or orgId=; an id two accounts share, unnamed, is 400', async () => {
    const alice = await f.newUser({ credits: 100 });
    const bob = await f.newUser({ credits: 100 });
    const id = uniqueId('staff').toLowerCase();
    await t.http
      .post('/api/budgets')
      .set(admin.auth)
      .send(body(id, { userId: alice.id }))
      .expect(201);
    await t.http
      .post('/api/budgets')
      .set(admin.auth)
      .send(body(id, { userId: bob.id, limitCredits: 9 }))
      .expect(201);
    const got = await t.http.get(`/api/budgets/${id}?userId=${bob.id}`).set(supervisor.auth).expect(200);
    expect(got.body).toMatchObject({ userId: bob.id, limitCredits: 9 });
    await t.http.patch(`/api/budgets/${id}?userId=${alice.id}`).set(admin.auth).send({ limitCredits: 42 }).expect(200);
    expect(
      (await t.http.get(`/api/budgets/${id}?userId=${alice.id}`).set(admin.auth).expect(200)).body.limitCredits,
    ).toBe(42);
    expect(
      (await t.http.get(`/api/budgets/${id}?userId=${bob.id}`).set(admin.auth).expect(200)).body.limitCredits,
    ).toBe(9);
    // Named, but not on that account: 404 as a missing budget.
    const carol = await f.newUser({ credits: 1 });
    await t.http.get(`/api/budgets/${id}?userId=${carol.id}`).set(admin.auth).expect(404);
    // Unnamed, two accounts hold it: which one is not for the service to guess.
    const ambiguous = await t.http.get(`/api/budgets/${id}`).set(admin.auth).expect(400);
    expect(ambiguous.body.code).toBe('VALIDATION');
    await t.http.delete(`/api/budgets/${id}?userId=${bob.id}`).set(admin.auth).expect(204);
    expect(
      (await t.http.get(`/api/budgets/${id}?userId=${alice.id}`).set(admin.auth).expect(200)).body.limitCredits,
    ).toBe(42);
    await t.http.get(`/api/budgets/${id}?userId=${bob.id}`).set(admin.auth).expect(404);
  });

  it('staff creating a budget name the account (400 without), and a limit is a PostgreSQL integer', async () => {
    const alice = await f.newUser({ credits: 100 });
    const nameless = uniqueId('nameless').toLowerCase();
    const unnamed = await t.http.post('/api/budgets').set(admin.auth).send(body(nameless));
    expect(unnamed.status).toBe(400);
    expect(unnamed.body.code).toBe('VALIDATION');
    const { rows } = await t.db.query(`SELECT count(*)::int AS n FROM credit_budgets WHERE budget_id = $1`, [nameless]);
    expect(rows[0].n).toBe(0);

    const id = uniqueId('big').toLowerCase();
    await t.http
      .post('/api/budgets')
      .set(admin.auth)
      .send(body(id, { userId: alice.id, limitCredits: 2_147_483_648 }))
      .expect(400);
    await t.http
      .post('/api/budgets')
      .set(admin.auth)
      .send(body(id, { userId: alice.id, limitCredits: 2_147_483_647 }))
      .expect(201);
    await t.http
      .patch(`/api/budgets/${id}?userId=${alice.id}`)
      .set(admin.auth)
      .send({ limitCredits: 2_147_483_648 })
      .expect(400);
  });
});
