import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { MetricsService } from '../src/metrics/metrics.service.js';
import { bearer, startTestApp, TEST_INTERNAL_API_KEY, type TestApp, token, uniqueId } from './support/app.js';
import { freePort, TestRedis } from './support/redis-server.js';
import { until } from './support/until.js';

// REDIS_URL: two instances count against one limit; when Redis is gone each instance falls back to
// its own counters (fail open, logged), and shares again once Redis is back.

const LIMIT = 4;
const me = '/api/users/me';
const badKey = (fill: number) => `acs_live_${Buffer.alloc(32, fill).toString('base64url')}`;
const settings = (redisUrl: string) => ({
  REDIS_URL: redisUrl,
  THROTTLE_LIMIT: String(LIMIT),
  THROTTLE_TTL_SECONDS: '60',
  THROTTLE_AUTH_FAILURE_LIMIT: '2',
  TRUST_PROXY: 'loopback',
});
const warnings = (t: TestApp, text: RegExp) => t.logs.filter((l) => text.test(l));
const storeErrors = async (t: TestApp) =>
  (await t.app.get(MetricsService).registry.getSingleMetric('accounting_rate_limit_store_errors_total')!.get())
    .values[0]?.value ?? 0;

describe('REDIS_URL: rate limits shared by two instances', () => {
  let redis: TestRedis;
  let a: TestApp;
  let b: TestApp;

  beforeAll(async () => {
    redis = await TestRedis.start();
    [a, b] = await Promise.all([startTestApp(settings(redis.url)), startTestApp(settings(redis.url))]);
  });
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
    await redis?.stop();
  });

  it('a principal gets THROTTLE_LIMIT requests in all, whichever instance answers', async () => {
    const userId = uniqueId('shared');
    const jwt = bearer(token({ sub: userId }));
    for (const app of [a, b, a, b]) await app.http.get(me).set(jwt).expect(200);
    const refused = await a.http.get(me).set(jwt);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    await b.http.get(me).set(jwt).expect(429);
    // The counters live in Redis, under the service's prefix.
    const client = new Redis(redis.url);
    try {
      const keys = await client.keys('accounting-service:*');
      expect(keys.some((k) => k.includes(`user:${userId}`))).toBe(true);
    } finally {
      client.disconnect();
    }
    // Another principal has its own budget.
    await b.http.get(me).set(bearer(token())).expect(200);
  });

  it('failed API-key attempts from one address are counted across instances', async () => {
    const from = { 'X-Forwarded-For': '203.0.113.41' };
    await a.http.get(me).set(from).set('X-API-Key', badKey(1)).expect(401);
    await b.http.get(me).set(from).set('X-API-Key', badKey(2)).expect(401);
    await a.http.get(me).set(from).set('X-API-Key', badKey(3)).expect(429);
    await b.http.get(me).set({ 'X-Forwarded-For': '203.0.113.42' }).set('X-API-Key', badKey(3)).expect(401);
  });

  it('an address blocked on one instance is refused the right internal key on the other', async () => {
    const from = { 'X-Forwarded-For': '203.0.113.43' };
    const verify = (app: TestApp, internalKey: string) =>
      app.http
        .post('/api/api-keys/verify')
        .set(from)
        .set('X-Internal-Api-Key', internalKey)
        .send({ key: badKey(4) });
    await verify(a, 'wrong-1').expect(401);
    await verify(a, 'wrong-2').expect(401);
    const blocked = await verify(b, TEST_INTERNAL_API_KEY);
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
    await verify(b, TEST_INTERNAL_API_KEY).set({ 'X-Forwarded-For': '203.0.113.44' }).expect(200);
  });

  it('Redis down: requests are still served, limited per instance, with one warning; shared again once back', async () => {
    await redis.stop();
    const jwt = bearer(token({ sub: uniqueId('down') }));
    // Each instance now allows the full limit on its own (as without REDIS_URL)...
    for (let i = 0; i < LIMIT; i++) {
      await a.http.get(me).set(jwt).expect(200);
      await b.http.get(me).set(jwt).expect(200);
    }
    // ...and still enforces it.
    await a.http.get(me).set(jwt).expect(429);
    await b.http.get(me).set(jwt).expect(429);
    for (const app of [a, b]) {
      expect(warnings(app, /rate limits fall back to per-instance counters/)).toHaveLength(1);
      expect(await storeErrors(app)).toBeGreaterThanOrEqual(LIMIT + 1);
    }

    await redis.resume();
    // Logged outside any request: Nest's logger is one per process, so either app's log may hold both lines.
    await until(
      'both instances to reconnect',
      () => [...a.logs, ...b.logs].filter((l) => /rate limits are shared again/.test(l)).length === 2,
      10_000,
      50,
    );
    const fresh = bearer(token({ sub: uniqueId('back') }));
    for (const app of [a, b, a, b]) await app.http.get(me).set(fresh).expect(200);
    await a.http.get(me).set(fresh).expect(429);
  });
});

describe('REDIS_URL pointing at nothing', () => {
  it('the service starts and serves with per-instance limits, and says so', async () => {
    const t = await startTestApp(settings(`redis://127.0.0.1:${await freePort()}`));
    try {
      const jwt = bearer(token({ sub: uniqueId('nowhere') }));
      for (let i = 0; i < LIMIT; i++) await t.http.get(me).set(jwt).expect(200);
      await t.http.get(me).set(jwt).expect(429);
      expect(warnings(t, /rate limits fall back to per-instance counters/)).toHaveLength(1);
    } finally {
      await t.close();
    }
  });
});
