import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { bearer, startTestApp, type TestApp, token, uniqueId } from './support/app.js';

/**
 * W3: a portal token, meant to sit in other sites' pages for embed.js, created full-scope API keys
 * that never expired, unaudited, outliving the session. Keys made through the portal now age
 * (PORTAL_KEY_MAX_DAYS), name their session, die with it when it is ended, and are audited like the
 * session's minting; a `read` session reaches the reads only.
 */
const DAY = 86_400_000;
let t: TestApp;
const adminId = uniqueId('w3admin');
const userId = uniqueId('w3user');
const orgId = uniqueId('w3org').toLowerCase();
const admin = bearer(token({ sub: adminId, role: 'admin' }));
let serviceKey: { id: string; key: string };

async function portal(body: Record<string, unknown>) {
  const res = await t.http.post('/api/portal/sessions').set('X-API-Key', serviceKey.key).send(body).expect(201);
  return { id: res.body.id as string, auth: bearer(res.body.token as string) };
}

describe('W3: keys created with a portal token', () => {
  beforeAll(async () => {
    t = await startTestApp({ PORTAL_KEY_MAX_DAYS: '30' });
    for (const sub of [adminId, userId]) {
      await t.http
        .get('/api/users/me')
        .set(bearer(token({ sub, role: sub === adminId ? 'admin' : 'user' })))
        .expect(200);
    }
    await t.http.post('/api/orgs').set(admin).send({ orgId, name: orgId, ownerUserId: adminId }).expect(201);
    await t.http.put(`/api/orgs/${orgId}/members/${userId}`).set(admin).send({ role: 'admin' }).expect(200);
    const created = await t.http
      .post('/api/api-keys')
      .set(admin)
      .send({ name: 'platform', permissions: ['usage:ingest'] })
      .expect(201);
    serviceKey = { id: created.body.id, key: created.body.key };
  }, 60_000);
  afterAll(async () => {
    await t?.close();
  });

  it('expire at most PORTAL_KEY_MAX_DAYS after they are made and name their session', async () => {
    const session = await portal({ userId });
    const before = Date.now();
    const key = await t.http.post('/api/api-keys').set(session.auth).send({ name: 'from the portal' }).expect(201);
    const expiresIn = new Date(key.body.expiresAt as string).getTime() - before;
    expect(expiresIn).toBeGreaterThan(30 * DAY - 60_000);
    expect(expiresIn).toBeLessThan(30 * DAY + 60_000);
    expect(key.body.portalSessionId).toBe(session.id);
    const sooner = new Date(before + 5 * DAY).toISOString();
    const short = await t.http
      .post('/api/api-keys')
      .set(session.auth)
      .send({ name: 'short', expiresAt: sooner })
      .expect(201);
    expect(short.body.expiresAt).toBe(sooner);
    const late = await t.http
      .post('/api/api-keys')
      .set(session.auth)
      .send({ name: 'late', expiresAt: new Date(before + 31 * DAY).toISOString() })
      .expect(400);
    expect(late.body.message).toContain('PORTAL_KEY_MAX_DAYS');
    // A key the user makes with their own token is untouched.
    const own = await t.http
      .post('/api/api-keys')
      .set(bearer(token({ sub: userId })))
      .send({ name: 'own' })
      .expect(201);
    expect(own.body.expiresAt).toBeNull();
    expect(own.body.portalSessionId).toBeNull();
  });

  it('die with their session when it is ended', async () => {
    const session = await portal({ userId });
    const key = await t.http.post('/api/api-keys').set(session.auth).send({ name: 'dies' }).expect(201);
    await t.http.get('/api/credits/balance').set('X-API-Key', key.body.key).expect(200);
    await t.http.delete(`/api/portal/sessions/${session.id}`).set('X-API-Key', serviceKey.key).expect(204);
    await t.http.get('/api/credits/balance').set('X-API-Key', key.body.key).expect(401);
    const view = await t.http
      .get(`/api/api-keys/${key.body.id}`)
      .set(bearer(token({ sub: userId })))
      .expect(200);
    expect(view.body.isActive).toBe(false);
    expect(view.body.revokedAt).not.toBeNull();
  });

  it('are audited, and so is the session, naming the service key that minted it', async () => {
    const session = await portal({ userId });
    const key = await t.http.post('/api/api-keys').set(session.auth).send({ name: 'audited' }).expect(201);
    const minted = await t.http
      .get(`/api/audit?action=portal.session.create&targetId=${session.id}`)
      .set(admin)
      .expect(200);
    expect(minted.body.items).toHaveLength(1);
    expect(minted.body.items[0].actor).toMatchObject({ via: 'api-key', apiKeyId: serviceKey.id });
    expect(minted.body.items[0].after).toMatchObject({ userId, scope: 'full', createdByKeyId: serviceKey.id });
    const created = await t.http.get(`/api/audit?action=api_key.create&targetId=${key.body.id}`).set(admin).expect(200);
    expect(created.body.items).toHaveLength(1);
    expect(created.body.items[0].after).toMatchObject({ userId, portalSessionId: session.id });
    expect(JSON.stringify(created.body.items[0])).not.toContain(key.body.key);
  });

  it('W9: an org session reaches only that org’s keys (never the user’s personal ones), a user session only the user’s own', async () => {
    const userSession = await portal({ userId });
    const orgSession = await portal({ userId, orgId });
    const personal = await t.http.post('/api/api-keys').set(userSession.auth).send({ name: 'personal' }).expect(201);
    const ofOrg = await t.http
      .post('/api/api-keys')
      .set(orgSession.auth)
      .send({ name: 'of the org', orgId })
      .expect(201);
    const orgList = await t.http.get('/api/api-keys').set(orgSession.auth).expect(200);
    expect(orgList.body.items.map((k: { orgId: string | null }) => k.orgId)).toEqual(
      orgList.body.items.map(() => orgId),
    );
    expect(orgList.body.items.map((k: { id: string }) => k.id)).toContain(ofOrg.body.id);
    const userList = await t.http.get('/api/api-keys').set(userSession.auth).expect(200);
    expect(userList.body.items.every((k: { orgId: string | null }) => k.orgId === null)).toBe(true);
    await t.http.get(`/api/api-keys/${personal.body.id}`).set(orgSession.auth).expect(404);
    await t.http.delete(`/api/api-keys/${personal.body.id}`).set(orgSession.auth).expect(404);
    await t.http.delete(`/api/api-keys/${ofOrg.body.id}`).set(userSession.auth).expect(404);
    const still = await t.http.get(`/api/api-keys/${personal.body.id}`).set(userSession.auth).expect(200);
    expect(still.body.isActive).toBe(true);
  });

  it('a read session reaches the reads only: writes answer 403', async () => {
    const readOnly = await portal({ userId, scope: 'read' });
    await t.http.get('/api/credits/balance').set(readOnly.auth).expect(200);
    await t.http.get('/api/usage/stats').set(readOnly.auth).expect(200);
    await t.http.post('/api/credits/check').set(readOnly.auth).send({ credits: 1 }).expect(200);
    const session = await t.http.get('/api/portal/session').set(readOnly.auth).expect(200);
    expect(session.body.scope).toBe('read');
    const refused = await t.http.post('/api/api-keys').set(readOnly.auth).send({ name: 'nope' }).expect(403);
    expect(refused.body.code).toBe('FORBIDDEN');
    await t.http.post('/api/promotions/redeem').set(readOnly.auth).send({ code: 'ANYCODE' }).expect(403);
    const full = await portal({ userId });
    const key = await t.http.post('/api/api-keys').set(full.auth).send({ name: 'someone’s' }).expect(201);
    await t.http.delete(`/api/api-keys/${key.body.id}`).set(readOnly.auth).expect(403);
    await t.http
      .post('/api/portal/sessions')
      .set('X-API-Key', serviceKey.key)
      .send({ userId, scope: 'write' })
      .expect(400);
  });
});
