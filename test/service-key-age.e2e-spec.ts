import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { bearer, startTestApp, type TestApp, token } from './support/app.js';
import { Fixtures, principal } from './support/fixtures.js';

// A service key must not live forever, nor meter once its creator is demoted. Service keys age
// (docs/operations.md "Giving the chat backend its service key"): at most SERVICE_KEY_MAX_DAYS (default 365) after its creation; the admin list
// shows whether each creator is still an admin.

const DAY = 86_400_000;

describe('service keys age (SERVICE_KEY_MAX_DAYS=30)', () => {
  let t: TestApp;
  let f: Fixtures;

  beforeAll(async () => {
    t = await startTestApp({ METERING_TRUST: 'service', SERVICE_KEY_MAX_DAYS: '30' });
    f = new Fixtures(t, { prefix: 'age' });
  });
  afterAll(() => t?.close());

  const create = (auth: Record<string, string>, body: Record<string, unknown>) =>
    t.http
      .post('/api/api-keys')
      .set(auth)
      .send({ name: 'svc', ...body });

  it('without expiresAt a service key gets the longest expiry; an ordinary key does not', async () => {
    const admin = principal('admin', 'age-admin');
    const before = Date.now();
    const res = await create(admin.auth, { permissions: ['usage:ingest'] }).expect(201);
    const expiresAt = new Date(res.body.expiresAt).getTime();
    expect(expiresAt).toBeGreaterThanOrEqual(before + 30 * DAY);
    expect(expiresAt).toBeLessThanOrEqual(Date.now() + 30 * DAY);
    const ordinary = await create(admin.auth, { permissions: ['usage:read'] }).expect(201);
    expect(ordinary.body.expiresAt).toBeNull();
  });

  it('a later expiresAt is refused with 400 and creates nothing; an earlier one is kept', async () => {
    const admin = principal('admin', 'age-admin2');
    const tooLate = new Date(Date.now() + 31 * DAY).toISOString();
    const refused = await create(admin.auth, { permissions: ['usage:ingest'], expiresAt: tooLate }).expect(400);
    expect(JSON.stringify(refused.body.message)).toMatch(/at most 30 days/);
    const list = await t.http.get('/api/api-keys').set(admin.auth).expect(200);
    expect(list.body.items).toEqual([]);
    const soon = new Date(Date.now() + 7 * DAY).toISOString();
    const kept = await create(admin.auth, { permissions: ['usage:ingest'], expiresAt: soon }).expect(201);
    expect(kept.body.expiresAt).toBe(soon);
  });

  it('the admin list of service keys shows whether each creator is still an admin', async () => {
    const stays = principal('admin', 'age-stays');
    const leaves = principal('admin', 'age-leaves');
    const kept = await f.apiKey(stays, { permissions: ['usage:ingest'] });
    const orphaned = await f.apiKey(leaves, { permissions: ['usage:ingest'] });
    // The second creator's next token says user: the account is demoted.
    await t.http
      .get('/api/users/me')
      .set(bearer(token({ sub: leaves.id, role: 'user' })))
      .expect(200);
    const listed = await t.http.get('/api/api-keys?scope=usage:ingest&limit=500').set(stays.auth).expect(200);
    const byId = new Map(listed.body.items.map((k: { id: string }) => [k.id, k]));
    expect(byId.get(kept.id)).toMatchObject({ userId: stays.id, creatorIsAdmin: true });
    expect(byId.get(orphaned.id)).toMatchObject({ userId: leaves.id, creatorIsAdmin: false });
    // Ordinary keys carry no such field.
    const ordinary = await f.apiKey(stays, { permissions: ['usage:read'] });
    const own = await t.http.get('/api/api-keys').set(stays.auth).expect(200);
    expect(own.body.items.find((k: { id: string }) => k.id === ordinary.id)).not.toHaveProperty('creatorIsAdmin');
  });
});
