import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { bearer, startTestApp, type TestApp, uniqueId } from './support/app.js';
import { Fixtures, tokenFor } from './support/fixtures.js';
import { type OwnDatabase, ownDatabase } from './support/own-database.js';

/**
 * A budget write naming an erased person's account → 409 ACCOUNT_ERASED, nothing written
 * (docs/budgets.md, docs/erasure.md). On a database of its own, as every spec that erases.
 */
describe('budgets of an erased account', () => {
  let own: OwnDatabase;
  let t: TestApp;
  let f: Fixtures;
  const admin = bearer(tokenFor('admin', 'budgets-erased-admin'));

  beforeAll(async () => {
    own = await ownDatabase('budgets_erased');
    t = await startTestApp({ DATABASE_URL: own.url, JOBS_ENABLED: 'false' });
    f = new Fixtures(t, { prefix: 'bge' });
  });
  afterAll(async () => {
    await t?.close();
    await own?.drop();
  });

  it('refuses creating, changing and deleting their budgets with 409 ACCOUNT_ERASED', async () => {
    const person = await f.newUser({ credits: 10, track: false });
    const budgetId = uniqueId('erased').toLowerCase();
    await t.http
      .post('/api/budgets')
      .set(admin)
      .send({ budgetId, userId: person.id, scope: { kind: 'project', id: 'p' }, limitCredits: 5 })
      .expect(201);
    await t.http.post(`/api/users/${person.id}/erasure`).set(admin).send({ reason: 'Asked by the person' }).expect(200);

    const created = await t.http
      .post('/api/budgets')
      .set(admin)
      .send({ budgetId: `${budgetId}-2`, userId: person.id, scope: { kind: 'run', id: 'r' }, limitCredits: 5 });
    expect(created.status, JSON.stringify(created.body)).toBe(409);
    expect(created.body.code).toBe('ACCOUNT_ERASED');
    const patched = await t.http.patch(`/api/budgets/${budgetId}`).set(admin).send({ limitCredits: 50 });
    expect(patched.status).toBe(409);
    expect(patched.body.code).toBe('ACCOUNT_ERASED');
    const deleted = await t.http.delete(`/api/budgets/${budgetId}`).set(admin);
    expect(deleted.status).toBe(409);
    expect(deleted.body.code).toBe('ACCOUNT_ERASED');
    const rows = await t.db.query(`SELECT budget_id, credit_limit::int AS lim FROM credit_budgets ORDER BY budget_id`);
    expect(rows.rows).toEqual([{ budget_id: budgetId, lim: 5 }]);
  });
});
