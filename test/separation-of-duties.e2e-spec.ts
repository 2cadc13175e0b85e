import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startTestApp, type TestApp, uniqueId } from './support/app.js';
import { expectCreditInvariants } from './support/credit-invariants.js';
import { Fixtures, type Principal, principal } from './support/fixtures.js';

/**
 * Separation of duties (docs/credits.md): a supervisor may not allocate credits to, or change the
 * subscription of, their own account → 403 SELF_GRANT_FORBIDDEN with nothing written. Admins may;
 * supervisors still may for everyone else.
 */
describe('SELF_GRANT_FORBIDDEN', () => {
  let t: TestApp;
  let f: Fixtures;
  let planId: string;
  const users: string[] = [];
  const admin = principal('admin', 'sod-admin');

  beforeAll(async () => {
    t = await startTestApp();
    f = new Fixtures(t, { users, prefix: 'sod', granter: admin.jwt });
    planId = uniqueId('sod').toLowerCase();
    await t.http
      .post('/api/plans')
      .set(admin.auth)
      .send({ id: planId, name: 'Pro', credits: 500, period: 'month' })
      .expect(201);
  });
  afterAll(async () => {
    await expectCreditInvariants(t, users);
    await t.close();
  });

  /** A caller of `role` whose account exists. */
  async function caller(role: 'supervisor' | 'admin'): Promise<Principal> {
    const p = principal(role, `sod-${role}`);
    await t.http.get('/api/users/me').set(p.auth).expect(200);
    users.push(p.id);
    return p;
  }

  const allocate = (by: Principal, userId: string, body: Record<string, unknown> = {}) =>
    t.http
      .post('/api/credits/allocate')
      .set(by.auth)
      .send({ userId, credits: 1000, ...body });
  const subscribe = (by: Principal, userId: string) =>
    t.http.put(`/api/users/${userId}/subscription`).set(by.auth).send({ planId });
  const unsubscribe = (by: Principal, userId: string) =>
    t.http.delete(`/api/users/${userId}/subscription`).set(by.auth);

  async function written(userId: string) {
    const { rows } = await t.db.query(
      `SELECT (SELECT count(*)::int FROM credit_allocations WHERE account_id = (SELECT account_id FROM accounts WHERE user_id = $1)) AS allocations,
              (SELECT count(*)::int FROM credit_ledger WHERE member_id = $1) AS ledger,
              (SELECT count(*)::int FROM subscriptions WHERE user_id = $1) AS subscriptions,
              (SELECT count(*)::int FROM subscriptions WHERE user_id = $1 AND ended_at IS NULL) AS live`,
      [userId],
    );
    return rows[0] as { allocations: number; ledger: number; subscriptions: number; live: number };
  }

  const refused = (res: { status: number; body: Record<string, unknown> }, message: string) => {
    expect(res.status, JSON.stringify(res.body)).toBe(403);
    expect(res.body).toEqual({ statusCode: 403, error: 'Forbidden', code: 'SELF_GRANT_FORBIDDEN', message });
  };

  it('a supervisor allocating to their own account: 403, nothing written (with an Idempotency-Key too)', async () => {
    const sup = await caller('supervisor');
    refused(await allocate(sup, sup.id), 'Supervisors may not allocate credits to their own account');
    refused(
      await allocate(sup, sup.id, { email: `${sup.id}@example.com`, username: sup.id }).set('Idempotency-Key', 'k1'),
      'Supervisors may not allocate credits to their own account',
    );
    expect(await written(sup.id)).toEqual({ allocations: 0, ledger: 0, subscriptions: 0, live: 0 });
    const { rows } = await t.db.query(`SELECT count(*)::int AS n FROM idempotency_keys WHERE principal = $1`, [
      `user:${sup.id}`,
    ]);
    expect(rows[0].n).toBe(0);
  });

  it('a supervisor subscribing themself: 403, no subscription and no grant', async () => {
    const sup = await caller('supervisor');
    refused(await subscribe(sup, sup.id), 'Supervisors may not change their own subscription');
    expect(await written(sup.id)).toEqual({ allocations: 0, ledger: 0, subscriptions: 0, live: 0 });
  });

  it('a supervisor ending their own subscription: 403, it stays live', async () => {
    const sup = await caller('supervisor');
    await subscribe(admin, sup.id).expect(200);
    const before = await written(sup.id);
    expect(before).toEqual({ allocations: 1, ledger: 1, subscriptions: 1, live: 1 });
    refused(await unsubscribe(sup, sup.id), 'Supervisors may not change their own subscription');
    // Nor can they swap it for another plan.
    refused(await subscribe(sup, sup.id), 'Supervisors may not change their own subscription');
    expect(await written(sup.id)).toEqual(before);
  });

  it('an admin may allocate to, subscribe and unsubscribe their own account', async () => {
    const adm = await caller('admin');
    const granted = await allocate(adm, adm.id);
    expect(granted.status, JSON.stringify(granted.body)).toBe(201);
    expect(granted.body).toMatchObject({ userId: adm.id, totalCredits: 1000, allocatedBy: adm.id });
    expect((await subscribe(adm, adm.id)).status).toBe(200);
    expect((await unsubscribe(adm, adm.id)).status).toBe(200);
    expect(await written(adm.id)).toMatchObject({ allocations: 2, subscriptions: 1, live: 0 });
  });

  it('a supervisor still allocates to, subscribes and unsubscribes other users', async () => {
    const sup = await caller('supervisor');
    const other = await f.newUser();
    const granted = await allocate(sup, other.id);
    expect(granted.status, JSON.stringify(granted.body)).toBe(201);
    expect(granted.body).toMatchObject({ userId: other.id, allocatedBy: sup.id });
    expect((await subscribe(sup, other.id)).status).toBe(200);
    expect((await unsubscribe(sup, other.id)).status).toBe(200);
    // A new account made by the grant itself is another user too.
    const fresh = uniqueId('sod-new');
    users.push(fresh);
    const created = await allocate(sup, fresh, { email: `${fresh}@example.com`, username: fresh });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(await written(other.id)).toMatchObject({ allocations: 2, subscriptions: 1, live: 0 });
    expect(await written(sup.id)).toEqual({ allocations: 0, ledger: 0, subscriptions: 0, live: 0 });
  });
});
