import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { bearer, startTestApp, type TestApp, token, uniqueId } from './support/app.js';

/**
 * What the one resolver and its rule promise where a route once decided for itself: a portal token
 * reads its own account's purchases and gets 404 for another's; redeeming for an org one is not a
 * member of (or that does not exist) is 403 NOT_A_MEMBER; a portal session reaches only its
 * account's API keys (an org session the org's, a user session the user's personal ones).
 */
let t: TestApp;
const admin = bearer(token({ sub: uniqueId('radmin'), role: 'admin' }));
const userId = uniqueId('ruser');
const otherId = uniqueId('rother');
const orgId = uniqueId('rorg').toLowerCase();
const asUser = (sub: string) => bearer(token({ sub }));

async function portal(body: Record<string, unknown>) {
  const res = await t.http.post('/api/portal/sessions').set(admin).send(body).expect(201);
  return bearer(res.body.token as string);
}

async function purchase(account: { userId: string } | { orgId: string }): Promise<string> {
  const res = await t.http
    .post('/api/purchases')
    .set(admin)
    .send({ credits: 100, amount: '1.00', currency: 'usd', provider: 'stripe', ...account })
    .expect(201);
  return res.body.id as string;
}

describe('Account resolution at the edge', () => {
  beforeAll(async () => {
    t = await startTestApp();
    for (const id of [userId, otherId]) await t.http.get('/api/users/me').set(asUser(id)).expect(200);
    await t.http.get('/api/users/me').set(admin).expect(200);
    await t.http.post('/api/orgs').set(admin).send({ orgId, name: orgId, ownerUserId: otherId }).expect(201);
    await t.http.put(`/api/orgs/${orgId}/members/${userId}`).set(admin).send({ role: 'billing' }).expect(200);
  }, 60_000);
  afterAll(() => t?.close());

  it('lets a portal token read its own account’s purchase and answers 404 for another’s', async () => {
    const own = await purchase({ userId });
    const others = await purchase({ userId: otherId });
    const orgs = await purchase({ orgId });
    const mine = await portal({ userId });
    const org = await portal({ userId, orgId });

    const read = await t.http.get(`/api/purchases/${own}`).set(mine).expect(200);
    expect(read.body).toMatchObject({ id: own, userId });
    await t.http.get(`/api/purchases/${own}/refundable`).set(mine).expect(200);
    await t.http.get(`/api/purchases/${orgs}`).set(org).expect(200);
    // Another account's purchase answers as to any outsider, whatever the token's user may see.
    await t.http.get(`/api/purchases/${others}`).set(mine).expect(404);
    await t.http.get(`/api/purchases/${orgs}`).set(mine).expect(404);
    await t.http.get(`/api/purchases/${own}`).set(org).expect(404);
    await t.http.get(`/api/purchases/${others}/refundable`).set(mine).expect(404);
    // The user's own token sees both of the user's (own, and the org's as its billing member).
    await t.http.get(`/api/purchases/${orgs}`).set(asUser(userId)).expect(200);
  });

  it('answers 403 NOT_A_MEMBER to a redemption for an org the caller is not a member of, or none', async () => {
    const code = `RES-${uniqueId('c')
      .replace(/[^a-z0-9]/gi, '')
      .toUpperCase()}`.slice(0, 40);
    await t.http
      .post('/api/promotions')
      .set(admin)
      .send({ code, credits: 5, expiryDays: 30, accounts: 'any', perAccount: 5 })
      .expect(201);
    const outsider = uniqueId('rout');
    await t.http.get('/api/users/me').set(asUser(outsider)).expect(200);
    for (const org of [orgId, uniqueId('nosuchorg').toLowerCase()]) {
      const res = await t.http.post('/api/promotions/redeem').set(asUser(outsider)).send({ code, orgId: org });
      expect([res.status, res.body.code]).toEqual([403, 'NOT_A_MEMBER']);
    }
    // A member below the org's managers: 403 for the role.
    const low = await t.http.post('/api/promotions/redeem').set(asUser(userId)).send({ code, orgId }).expect(403);
    expect(low.body.code).toBe('FORBIDDEN');
    const granted = await t.db.query(`SELECT count(*)::int AS n FROM promotion_redemptions WHERE code = $1`, [code]);
    expect(granted.rows[0].n).toBe(0);
    await t.http.post('/api/promotions/redeem').set(asUser(otherId)).send({ code, orgId }).expect(201);
  });

  it('holds a portal session to its account’s API keys: list, read and revoke', async () => {
    const personal = await t.http.post('/api/api-keys').set(asUser(userId)).send({ name: 'personal' }).expect(201);
    const orgKey = await t.http.post('/api/api-keys').set(asUser(userId)).send({ name: 'org', orgId }).expect(201);
    const mine = await portal({ userId });
    const org = await portal({ userId, orgId });
    const ids = async (auth: { Authorization: string }) =>
      ((await t.http.get('/api/api-keys').set(auth).expect(200)).body.items as { id: string }[]).map((k) => k.id);

    const orgSees = await ids(org);
    expect(orgSees).toContain(orgKey.body.id);
    expect(orgSees).not.toContain(personal.body.id);
    const userSees = await ids(mine);
    expect(userSees).toContain(personal.body.id);
    expect(userSees).not.toContain(orgKey.body.id);
    expect(await ids(asUser(userId))).toEqual(expect.arrayContaining([personal.body.id, orgKey.body.id]));

    await t.http.get(`/api/api-keys/${personal.body.id}`).set(org).expect(404);
    await t.http.delete(`/api/api-keys/${personal.body.id}`).set(org).expect(404);
    await t.http.delete(`/api/api-keys/${orgKey.body.id}`).set(mine).expect(404);
    await t.http
      .get('/api/users/me')
      .set('X-API-Key', personal.body.key as string)
      .expect(200);
    await t.http
      .get('/api/users/me')
      .set('X-API-Key', orgKey.body.key as string)
      .expect(200);

    await t.http.delete(`/api/api-keys/${orgKey.body.id}`).set(org).expect(200);
    await t.http
      .get('/api/users/me')
      .set('X-API-Key', orgKey.body.key as string)
      .expect(401);
    await t.http.delete(`/api/api-keys/${personal.body.id}`).set(mine).expect(200);
  });
});
