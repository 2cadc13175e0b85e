import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { bearer, startTestApp, TEST_INTERNAL_API_KEY, type TestApp, token, uniqueId } from './support/app.js';

// Apps with their own settings. One app at a time: passport strategies are process-wide, so the
// suites below start their app only after the previous one closed.

describe('failed credentials are throttled per address', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ THROTTLE_AUTH_FAILURE_LIMIT: '3' });
  });
  afterAll(() => t.close());

  it('answers 429 with Retry-After once bad API keys and internal keys reach the limit, to every key; JWTs go on', async () => {
    const sub = uniqueId('ak');
    const auth = bearer(token({ sub }));
    const created = await t.http.post('/api/api-keys').set(auth).send({ name: 'good' }).expect(201);
    const badKey = `acs_live_${Buffer.alloc(32, 9).toString('base64url')}`;

    await t.http.get('/api/users/me').set('X-API-Key', badKey).expect(401);
    await t.http.get('/api/users/me').set('X-API-Key', badKey).expect(401);
    // A bad JWT is not counted (and never answered 429).
    const badJwt = bearer(token({ sub }, { secret: 'wrong-secret-wrong-secret-wrong-secret' }));
    await t.http.get('/api/users/me').set(badJwt).expect(401);
    await t.http.post('/api/api-keys/verify').set('X-Internal-Api-Key', 'wrong').send({ key: badKey }).expect(401);

    const blocked = await t.http.get('/api/users/me').set('X-API-Key', badKey).expect(429);
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
    await t.http.post('/api/api-keys/verify').set('X-Internal-Api-Key', 'wrong').send({ key: badKey }).expect(429);
    await t.http.get('/api/users/me').set(badJwt).expect(401);
    // The block is checked before the key, so the right key is refused too (guessing
    // cannot go on); JWTs are not counted or blocked.
    await t.http.get('/api/users/me').set('X-API-Key', created.body.key).expect(429);
    await t.http
      .post('/api/api-keys/verify')
      .set('X-Internal-Api-Key', TEST_INTERNAL_API_KEY)
      .send({ key: badKey })
      .expect(429);
    await t.http.get('/api/users/me').set(auth).expect(200);
  });
});

describe('verify without INTERNAL_API_KEY configured', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ INTERNAL_API_KEY: '' });
  });
  afterAll(() => t.close());

  it('refuses every internal key, the empty one included', async () => {
    await t.http.post('/api/api-keys/verify').set('X-Internal-Api-Key', '').send({ key: 'x' }).expect(401);
    await t.http
      .post('/api/api-keys/verify')
      .set('X-Internal-Api-Key', TEST_INTERNAL_API_KEY)
      .send({ key: 'x' })
      .expect(401);
    await t.http
      .post('/api/api-keys/verify')
      .set(bearer(token({ role: 'admin' })))
      .send({ key: 'x' })
      .expect(200);
  });
});
