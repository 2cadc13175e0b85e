import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { bearer, startTestApp, type TestApp, token } from './support/app.js';
import { type CreatedApiKey, Fixtures, principal } from './support/fixtures.js';
import { expectInvariants } from './support/invariants.js';

/**
 * Service keys (docs/trust-model.md "Who may meter (the trust model)"): an API key with `usage:ingest`, created only by an
 * admin, works while its creator is an admin, until revoked or expired; admins list them across owners.
 */
describe('service keys', () => {
  let t: TestApp;
  let f: Fixtures;
  const users: string[] = [];

  beforeAll(async () => {
    t = await startTestApp({ METERING_TRUST: 'service' });
    f = new Fixtures(t, { users, prefix: 'svc' });
  });
  afterAll(() => t.close());
  afterEach(async () => {
    await expectInvariants(t, users);
  });

  const record = (key: CreatedApiKey, userId: string, credits: number) =>
    t.http
      .post('/api/usage/record')
      .set({ 'X-API-Key': key.key })
      .send({ userId, service: 'chat', operation: 'c', credits });

  it('meters while its creating admin is an admin, stops (401) once demoted, and after a revocation', async () => {
    const target = await f.newUser({ credits: 50 });
    const creator = principal('admin', 'svc-admin');
    await t.http.get('/api/users/me').set(creator.auth).expect(200);
    const key = await f.apiKey(creator, { name: 'chat-backend', permissions: ['usage:ingest'] });
    await record(key, target.id, 5).expect(201);
    // The creator's next token says user: the account is demoted (the token is the source of truth).
    await t.http
      .get('/api/users/me')
      .set(bearer(token({ sub: creator.id, role: 'user' })))
      .expect(200);
    const { rows } = await t.db.query(`SELECT role FROM user_accounts WHERE user_id = $1`, [creator.id]);
    expect(rows).toEqual([{ role: 'user' }]);
    const verified = await t.http
      .post('/api/api-keys/verify')
      .set(bearer(token({ role: 'admin' })))
      .send({ key: key.key });
    expect(verified.body).toEqual({ valid: false, reason: 'creator_not_admin' });
    await record(key, target.id, 6).expect(401);
    expect(await f.available(target.id)).toBe(45);
    // An admin again: the key meters again, until it is revoked.
    await t.http.get('/api/users/me').set(creator.auth).expect(200);
    await record(key, target.id, 6).expect(201);
    await t.http
      .delete(`/api/api-keys/${key.id}`)
      .set(bearer(token({ role: 'admin' })))
      .expect(200);
    await record(key, target.id, 7).expect(401);
    expect(await f.available(target.id)).toBe(39);
  });

  it('only an admin token may create one: users, supervisors and keys cannot', async () => {
    for (const role of ['user', 'supervisor'] as const) {
      const who = await f.newUser({ role });
      const res = await t.http
        .post('/api/api-keys')
        .set(who.auth)
        .send({ name: 'sneaky', permissions: ['usage:ingest'] })
        .expect(403);
      expect(res.body.message).toMatch(/usage:ingest/);
    }
    const admin = principal('admin', 'svc-admin');
    const key = await f.apiKey(admin, { name: 'service', permissions: ['usage:ingest'] });
    await t.http
      .post('/api/api-keys')
      .set({ 'X-API-Key': key.key })
      .send({ name: 'from a key', permissions: ['usage:ingest'] })
      .expect(403);
  });

  it('no route adds the scope to an existing key (PATCH takes no permissions)', async () => {
    const user = await f.newUser();
    const key = await f.apiKey(user, { name: 'plain', permissions: ['usage:write'] });
    for (const auth of [user.auth, principal('admin').auth])
      await t.http
        .patch(`/api/api-keys/${key.id}`)
        .set(auth)
        .send({ permissions: ['usage:ingest'] })
        .expect(400);
    const { rows } = await t.db.query(`SELECT permissions FROM api_keys WHERE id = $1`, [key.id]);
    expect(rows).toEqual([{ permissions: ['usage:write'] }]);
  });

  it('an expired service key stops metering like any other key', async () => {
    const target = await f.newUser({ credits: 10 });
    const key = await f.apiKey(principal('admin'), {
      name: 'expiring',
      permissions: ['usage:ingest'],
      expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
    });
    await record(key, target.id, 1).expect(201);
    await t.db.query(`UPDATE api_keys SET expires_at = now() WHERE id = $1`, [key.id]);
    await record(key, target.id, 1).expect(401);
    expect(await f.available(target.id)).toBe(9);
  });

  it('admins list every service key across owners with scope=usage:ingest; nobody else may', async () => {
    const [a, b] = [principal('admin', 'svc-list'), principal('admin', 'svc-list')];
    const ingestA = await f.apiKey(a, { name: 'ingest a', permissions: ['usage:ingest'] });
    const ingestB = await f.apiKey(b, { name: 'ingest b', permissions: ['usage:read', 'usage:ingest'] });
    const plain = await f.apiKey(a, { name: 'plain', permissions: ['usage:read'] });
    const ids: string[] = [];
    let cursor: string | undefined;
    do {
      const res = await t.http
        .get('/api/api-keys')
        .query({ scope: 'usage:ingest', limit: 2, ...(cursor ? { cursor } : {}) })
        .set(a.auth)
        .expect(200);
      for (const k of res.body.items) {
        expect(k.permissions).toContain('usage:ingest');
        ids.push(k.id);
      }
      cursor = res.body.nextCursor ?? undefined;
    } while (cursor);
    expect(ids).toEqual(expect.arrayContaining([ingestA.id, ingestB.id]));
    expect(ids).not.toContain(plain.id);
    expect(new Set(ids).size).toBe(ids.length);
    // With userId: that owner's service keys only.
    const ofB = await t.http
      .get('/api/api-keys')
      .query({ scope: 'usage:ingest', userId: b.id })
      .set(a.auth)
      .expect(200);
    expect(ofB.body.items.map((k: { id: string }) => k.id)).toEqual([ingestB.id]);

    const supervisor = await f.newUser({ role: 'supervisor' });
    await t.http.get('/api/api-keys').query({ scope: 'usage:ingest' }).set(supervisor.auth).expect(403);
    await t.http.get('/api/api-keys').query({ scope: 'usage:everything' }).set(a.auth).expect(400);
  });
});
