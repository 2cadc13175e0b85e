import { randomUUID } from 'node:crypto';

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { bearer, startTestApp, type TestApp } from './support/app.js';
import { Fixtures, tokenFor } from './support/fixtures.js';
import { expectInvariants } from './support/invariants.js';

const admin = bearer(tokenFor('admin', 'metering-users-admin'));

/** METERING_TRUST=users (every caller meters its own account), where the two modes differ. */
describe('metering trust: users', () => {
  let t: TestApp;
  let f: Fixtures;
  const users: string[] = [];
  const model = `trust-users-${randomUUID().slice(0, 8)}`;

  beforeAll(async () => {
    t = await startTestApp({ METERING_TRUST: 'users' });
    f = new Fixtures(t, { users, prefix: 'trustu' });
    await t.http.post('/api/pricing').set(admin).send({ modelId: model, pricePer1kTokens: '3' }).expect(201);
  });
  afterAll(() => t.close());
  afterEach(async () => {
    await expectInvariants(t, users);
  });

  it('every caller meters its own account, and only its own', async () => {
    const u = await f.newUser({ credits: 100 });
    const other = await f.newUser({ credits: 100 });
    const key = await f.apiKey(u, { name: 'own' });
    await t.http
      .post('/api/usage/record')
      .set(u.auth)
      .send({ service: 'chat', operation: 'c', credits: 2 })
      .expect(201);
    await t.http
      .post('/api/usage/record')
      .set({ 'X-API-Key': key.key })
      .send({ service: 'chat', operation: 'c', credits: 3 })
      .expect(201);
    const init = await t.http
      .post('/api/streaming-sessions/initialize')
      .set(u.auth)
      .send({ modelId: model, estimatedTokens: 1000 })
      .expect(201);
    const fin = await t.http
      .post('/api/streaming-sessions/finalize')
      .set(u.auth)
      .send({ sessionId: init.body.sessionId, actualTokens: 0 })
      .expect(200);
    expect(fin.body).toMatchObject({ userId: u.id, actualCredits: 0, refund: 4 });
    // Naming another user (or a key) is a service principal's: 400, nothing written.
    for (const extra of [{ userId: other.id }, { apiKeyId: key.id }]) {
      const res = await t.http
        .post('/api/usage/record')
        .set(u.auth)
        .send({ service: 'chat', operation: 'c', credits: 1, ...extra })
        .expect(400);
      expect(res.body.code).toBe('VALIDATION');
    }
    expect(await f.available(u.id)).toBe(95);
    expect(await f.available(other.id)).toBe(100);
  });

  it('service principals still name the user they meter', async () => {
    const u = await f.newUser({ credits: 10 });
    const res = await t.http
      .post('/api/usage/record')
      .set(admin)
      .send({ userId: u.id, service: 'chat', operation: 'c', credits: 4 })
      .expect(201);
    expect(res.body.userId).toBe(u.id);
    expect(await f.available(u.id)).toBe(6);
  });
});
