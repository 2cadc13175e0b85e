import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { bearer, startTestApp, type TestApp, token, uniqueId } from './support/app.js';

/**
 * Portal sessions over HTTP: minted by a service principal, a token that reaches one account's reads
 * and the user's own keys only, ended or expired → 401, and never written to the log.
 */
const ALLOWED = 'http://127.0.0.1:9';
let t: TestApp;
const adminId = uniqueId('padmin');
const userId = uniqueId('puser');
const otherId = uniqueId('pother');
const orgId = uniqueId('porg').toLowerCase();
const otherOrg = uniqueId('porg2').toLowerCase();
const admin = bearer(token({ sub: adminId, role: 'admin' }));
const asUser = (sub: string) => bearer(token({ sub }));

function mint(body: Record<string, unknown>, auth = admin) {
  return t.http.post('/api/portal/sessions').set(auth).send(body);
}

async function portal(body: Record<string, unknown>) {
  const res = await mint(body).expect(201);
  return {
    ...(res.body as { id: string; token: string; url: string; expiresAt: string }),
    auth: bearer(res.body.token),
  };
}

describe('Portal sessions', () => {
  // A stand-in for the built portal (its headers are what this file checks; the page itself is
  // built and driven in portal-page.e2e-spec.ts): an index.html and an embed.js.
  const portalDir = mkdtempSync(join(tmpdir(), 'portal-'));
  writeFileSync(join(portalDir, 'index.html'), '<!doctype html><title>Portal</title>');
  writeFileSync(join(portalDir, 'embed.js'), 'export {};');

  beforeAll(async () => {
    t = await startTestApp({
      PORTAL_DIR: portalDir,
      PUBLIC_URL: 'https://credits.example',
      PORTAL_ALLOWED_ORIGINS: ALLOWED,
      LOG_LEVEL: 'trace',
    });
    for (const id of [adminId, userId, otherId]) await t.http.get('/api/users/me').set(asUser(id)).expect(200);
    await t.http.get('/api/users/me').set(admin).expect(200);
    await t.http.post('/api/credits/allocate').set(admin).send({ userId, credits: 500 }).expect(201);
    await t.http.post('/api/credits/allocate').set(admin).send({ userId: otherId, credits: 70 }).expect(201);
    await t.http
      .post('/api/usage/record')
      .set(asUser(userId))
      .send({ service: 'chat', operation: 'reply', credits: 12 })
      .expect(201);
    for (const [org, owner] of [
      [orgId, otherId],
      [otherOrg, otherId],
    ]) {
      await t.http.post('/api/orgs').set(admin).send({ orgId: org, name: org, ownerUserId: owner }).expect(201);
    }
    await t.http.put(`/api/orgs/${orgId}/members/${userId}`).set(admin).send({ role: 'member' }).expect(200);
    await t.http.post('/api/credits/allocate').set(admin).send({ orgId, credits: 300 }).expect(201);
  }, 60_000);
  afterAll(async () => {
    await t?.close();
    rmSync(portalDir, { recursive: true, force: true });
  });

  it('is minted by a service principal only, with the URL under PUBLIC_URL and a bounded lifetime', async () => {
    const started = Date.now();
    const s = await portal({ userId });
    expect(s.url).toBe(`https://credits.example/portal#token=${s.token}`);
    expect(s.token).toMatch(/^acp_[A-Za-z0-9_-]{43}$/);
    const ttl = new Date(s.expiresAt).getTime() - started;
    expect(ttl).toBeGreaterThan(895_000);
    expect(ttl).toBeLessThan(905_000);
    await mint({ userId }, asUser(userId)).expect(403);
    await mint({ userId: uniqueId('nobody') }).expect(404);
    expect((await mint({ userId, orgId: otherOrg }).expect(403)).body.code).toBe('NOT_A_MEMBER');
    await mint({ userId, ttlSeconds: 59 }).expect(400);
    await mint({ userId, ttlSeconds: 3601 }).expect(400);
    const short = await portal({ userId, ttlSeconds: 60 });
    expect(new Date(short.expiresAt).getTime() - started).toBeLessThan(65_000);
    // A service key (usage:ingest) mints too.
    const key = await t.http
      .post('/api/api-keys')
      .set(admin)
      .send({ name: 'platform', permissions: ['usage:ingest'] })
      .expect(201);
    await t.http.post('/api/portal/sessions').set('X-API-Key', key.body.key).send({ userId }).expect(201);
  });

  it('reads the user’s own account with the same figures as the user’s own token', async () => {
    const { auth } = await portal({ userId });
    const me = await t.http.get('/api/users/me').set(auth).expect(200);
    expect(me.body.userId).toBe(userId);
    for (const path of ['/api/credits/balance', '/api/credits/allocations', '/api/usage/records', '/api/purchases']) {
      const viaPortal = await t.http.get(path).set(auth).expect(200);
      const viaJwt = await t.http.get(path).set(asUser(userId)).expect(200);
      expect(viaPortal.body).toEqual(viaJwt.body);
    }
    const balance = await t.http.get('/api/credits/balance').set(auth).expect(200);
    expect(balance.body.totalCredits).toBe(488);
    await t.http.get(`/api/credits/allocations?userId=${userId}`).set(auth).expect(200);
    await t.http.get('/api/usage/stats').set(auth).expect(200);
    const chat = await t.http.get('/api/usage/records?modelId=no-such-model').set(auth).expect(200);
    expect(chat.body.items).toEqual([]);
    await t.http.get('/api/usage/records/export').set(auth).expect(200);
    await t.http.get('/api/pricing').set(auth).expect(200);
  });

  it('never reaches another account (404), a staff route or metering (403)', async () => {
    const { auth } = await portal({ userId });
    await t.http.get(`/api/credits/allocations?userId=${otherId}`).set(auth).expect(404);
    await t.http.get(`/api/usage/records?userId=${otherId}`).set(auth).expect(404);
    await t.http.get(`/api/purchases?userId=${otherId}`).set(auth).expect(404);
    await t.http.get(`/api/purchases?orgId=${orgId}`).set(auth).expect(404);
    await t.http.get(`/api/orgs/${orgId}`).set(auth).expect(404);
    await t.http.get('/api/users').set(auth).expect(403);
    // A staff read naming another account: the same 404 as the user's own JWT gets, not a 403 that
    // would tell the id exists.
    const viaJwt = await t.http.get(`/api/credits/balance/${otherId}`).set(asUser(userId)).expect(404);
    const viaPortal = await t.http.get(`/api/credits/balance/${otherId}`).set(auth).expect(404);
    expect(viaPortal.body).toEqual(viaJwt.body);
    await t.http
      .get(`/api/credits/balance/${uniqueId('pnobody')}`)
      .set(auth)
      .expect(404);
    await t.http.get(`/api/credits/balance/${userId}`).set(auth).expect(403);
    await t.http.get('/api/audit').set(auth).expect(403);
    await t.http.get('/api/orgs/mine').set(auth).expect(403);
    await t.http.post('/api/credits/allocate').set(auth).send({ userId, credits: 5 }).expect(403);
    await t.http.post('/api/usage/record').set(auth).send({ service: 'chat', operation: 'x', credits: 1 }).expect(403);
    await t.http.post('/api/streaming-sessions/initialize').set(auth).send({ estimatedTokens: 10 }).expect(403);
    await t.http.post('/api/portal/sessions').set(auth).send({ userId }).expect(403);
    await t.http.post('/api/api-keys').set(auth).send({ name: 'org key', orgId }).expect(403);
    const after = await t.http.get('/api/credits/balance').set(asUser(userId)).expect(200);
    expect(after.body.totalCredits).toBe(488);
  });

  it('answers 403 on every operation of the document whose rule does not let portal tokens in (fail closed)', async () => {
    // Each route names the session's own account (another one is 404 first, as to any outsider).
    const { auth: userAuth } = await portal({ userId });
    const { auth: orgAuth } = await portal({ userId, orgId });
    const doc = (await t.http.get('/api/docs-json').expect(200)).body as {
      paths: Record<string, Record<string, { security?: unknown[]; 'x-portal'?: string }>>;
    };
    let checked = 0;
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        const route = `${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`;
        if (!op.security?.length || op['x-portal'] || route.startsWith('POST /api/api-keys/verify')) continue;
        const url = path.replace(/\{(\w+)\}/g, (_m, name: string) =>
          name === 'orgId' ? orgId : name === 'userId' ? userId : '0193a1f0-7c1e-7a34-9d2b-5f3c2e1a9b70',
        );
        const auth = path.includes('{orgId}') ? orgAuth : userAuth;
        const res = await t.http[method as 'get'](url).set(auth).send({});
        expect([route, res.status]).toEqual([route, 403]);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(50);
  });

  it('manages the user’s own API keys: create with scopes and a budget, list, revoke', async () => {
    const { auth } = await portal({ userId });
    const created = await t.http
      .post('/api/api-keys')
      .set(auth)
      .send({ name: 'from the portal', permissions: ['usage:read'], creditLimit: 100, limitPeriod: 'day' })
      .expect(201);
    expect(created.body.key).toMatch(/^acs_live_/);
    const list = await t.http.get('/api/api-keys').set(auth).expect(200);
    expect(list.body.items.map((k: { id: string }) => k.id)).toContain(created.body.id);
    await t.http.delete(`/api/api-keys/${created.body.id}`).set(auth).expect(200);
    await t.http.get('/api/usage/records').set('X-API-Key', created.body.key).expect(401);
    await t.http
      .post('/api/api-keys')
      .set(auth)
      .send({ name: 'admin-only', permissions: ['usage:ingest'] })
      .expect(403);
  });

  it('redeems a promotion for its own account only: for another account 403, nothing granted', async () => {
    const code = `PORTAL-${uniqueId('p')
      .replace(/[^a-z0-9]/gi, '')
      .toUpperCase()}`.slice(0, 40);
    await t.http
      .post('/api/promotions')
      .set(admin)
      .send({ code, credits: 7, expiryDays: 30, accounts: 'any', perAccount: 5 })
      .expect(201);
    const mine = await portal({ userId });
    const org = await portal({ userId, orgId });
    const granted = async () =>
      (await t.db.query(`SELECT count(*)::int AS n FROM promotion_redemptions WHERE code = $1`, [code])).rows[0].n;
    // Another org (the user is not in it), the org of the user's own session, and the user's own
    // account from an org session: each is someone else's account for that token.
    await t.http.post('/api/promotions/redeem').set(mine.auth).send({ code, orgId: otherOrg }).expect(403);
    await t.http.post('/api/promotions/redeem').set(mine.auth).send({ code, orgId }).expect(403);
    await t.http.post('/api/promotions/redeem').set(org.auth).send({ code }).expect(403);
    expect(await granted()).toBe(0);
    const redeemed = await t.http.post('/api/promotions/redeem').set(mine.auth).send({ code }).expect(201);
    expect(redeemed.body).toMatchObject({ code, credits: 7 });
    expect(await granted()).toBe(1);
  });

  it('with orgId reaches only that org, as the member’s role allows', async () => {
    const member = await portal({ userId, orgId });
    const session = await t.http.get('/api/portal/session').set(member.auth).expect(200);
    expect(session.body).toEqual({
      id: member.id,
      userId,
      orgId,
      orgRole: 'member',
      scope: 'full',
      expiresAt: member.expiresAt,
      buyUrl: null, // this app names no PORTAL_BUY_URL
      // This app's METERING_TRUST=users lets users meter themselves; no gateway configured (the
      // default trust's narrower list: test/console-widths.e2e-spec.ts).
      keyScopes: ['credits:read', 'usage:read', 'usage:write', 'sessions:read', 'sessions:write', 'pricing:read'],
    });
    await t.http.get('/api/portal/session').set(asUser(userId)).expect(404);
    await t.http.get(`/api/orgs/${orgId}`).set(member.auth).expect(200);
    const own = await t.http.get(`/api/orgs/${orgId}/members/${userId}`).set(member.auth).expect(200);
    expect(own.body).toMatchObject({ userId, role: 'member' });
    await t.http.get(`/api/orgs/${orgId}/balance`).set(member.auth).expect(403);
    await t.http.get('/api/credits/balance').set(member.auth).expect(404);
    await t.http.get(`/api/orgs/${otherOrg}`).set(member.auth).expect(404);
    await t.http.put(`/api/orgs/${orgId}/members/${userId}`).set(admin).send({ role: 'billing' }).expect(200);
    const reader = await portal({ userId, orgId });
    const viaPortal = await t.http.get(`/api/orgs/${orgId}/balance`).set(reader.auth).expect(200);
    const viaJwt = await t.http.get(`/api/orgs/${orgId}/balance`).set(asUser(userId)).expect(200);
    expect(viaPortal.body).toEqual(viaJwt.body);
    expect(viaPortal.body.totalCredits).toBe(300);
    await t.http.get(`/api/orgs/${orgId}/members`).set(reader.auth).expect(200);
    await t.http.get(`/api/purchases?orgId=${orgId}`).set(reader.auth).expect(200);
    await t.http.get('/api/purchases').set(reader.auth).expect(404);
    await t.http.post('/api/api-keys').set(reader.auth).send({ name: 'personal' }).expect(403);
    await t.http.post('/api/api-keys').set(reader.auth).send({ name: 'org key', orgId }).expect(201);
    await t.http.put(`/api/orgs/${orgId}/members/${userId}`).set(admin).send({ role: 'member' }).expect(200);
  });

  it('is refused (401) once ended or expired; ending twice is fine, an unknown id is 404', async () => {
    const s = await portal({ userId });
    await t.http.get('/api/credits/balance').set(s.auth).expect(200);
    await t.http.delete(`/api/portal/sessions/${s.id}`).set(asUser(userId)).expect(403);
    await t.http.delete(`/api/portal/sessions/${s.id}`).set(admin).expect(204);
    await t.http.delete(`/api/portal/sessions/${s.id}`).set(admin).expect(204);
    const ended = await t.http.get('/api/credits/balance').set(s.auth).expect(401);
    expect(ended.body.message).toBe('This portal session has ended or expired');
    await t.http.delete('/api/portal/sessions/0193a1f0-7c1e-7a34-9d2b-5f3c2e1a9b70').set(admin).expect(404);
    await t.http.delete('/api/portal/sessions/nope').set(admin).expect(400);

    const e = await portal({ userId });
    await t.db.query(`UPDATE portal_sessions SET expires_at = now() - interval '1 second' WHERE id = $1`, [e.id]);
    await t.http.get('/api/users/me').set(e.auth).expect(401);
    await t.http
      .get('/api/users/me')
      .set(bearer('acp_' + 'x'.repeat(43)))
      .expect(401);
    await t.http.get('/api/users/me').set(bearer('acp_short')).expect(401);
  });

  it('never writes the token to the log', async () => {
    t.logs.length = 0;
    const s = await portal({ userId });
    await t.http.get('/api/credits/balance').set(s.auth).expect(200);
    await t.http.get('/api/users').set(s.auth).expect(403);
    await t.http.get(`/api/credits/allocations?userId=${otherId}`).set(s.auth).expect(404);
    await t.http.get('/portal').set(s.auth);
    await t.http.delete(`/api/portal/sessions/${s.id}`).set(admin).expect(204);
    await t.http.get('/api/credits/balance').set(s.auth).expect(401);
    expect(t.logs.length).toBeGreaterThan(4);
    const secret = s.token.slice(4);
    expect(t.logs.filter((line) => line.includes(secret))).toEqual([]);
  });

  it('lets PORTAL_ALLOWED_ORIGINS call the API and load embed.js, and nobody else', async () => {
    const pre = await t.http
      .options('/api/credits/balance')
      .set('Origin', ALLOWED)
      .set('Access-Control-Request-Method', 'GET')
      .set('Access-Control-Request-Headers', 'authorization');
    expect(pre.headers['access-control-allow-origin']).toBe(ALLOWED);
    const refused = await t.http
      .options('/api/credits/balance')
      .set('Origin', 'http://127.0.0.1:10')
      .set('Access-Control-Request-Method', 'GET');
    expect(refused.headers['access-control-allow-origin']).toBeUndefined();
    const page = await t.http.get('/portal').expect(200);
    expect(page.headers['content-security-policy']).toContain(`frame-ancestors 'self' ${ALLOWED}`);
    expect(page.headers['x-frame-options']).toBeUndefined();
    const embed = await t.http.get('/portal/embed.js').set('Origin', ALLOWED);
    expect(embed.headers['access-control-allow-origin']).toBe(ALLOWED);
    const other = await t.http.get('/portal/embed.js').set('Origin', 'http://127.0.0.1:10');
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
  });
});
