import { randomUUID } from 'node:crypto';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { bearer, startTestApp, type TestApp, token, uniqueId } from './support/app.js';
import { type CreatedApiKey, Fixtures, principal, tokenFor } from './support/fixtures.js';
import { expectInvariants } from './support/invariants.js';
import { TestRedis } from './support/redis-server.js';

// Under METERING_TRUST=service one service key meters every user, and it shared one
// principal's throttle (20 threads of finalize/abort: 980 × 200, then 2,329 × 429); thirty wrong
// X-API-Key guesses from the gateway's address locked the valid service key out too; requests
// without any credential were never throttled. docs/operations.md "Rate limits: who counts against what".

const LIMIT = 20;
const AUTH_FAILURES = 30;
const ANONYMOUS = 8;
const GATEWAY = '198.51.100.77';
const badKey = (fill: number) => `acs_live_${Buffer.alloc(32, fill).toString('base64url')}`;

describe.each([
  ['in memory', false],
  ['with REDIS_URL', true],
])('throttling per kind of principal (%s)', (_label, withRedis) => {
  let t: TestApp;
  let redis: TestRedis | undefined;
  let f: Fixtures;
  let service: CreatedApiKey;
  const users: string[] = [];
  const model = `throttle-${randomUUID().slice(0, 8)}`;

  beforeAll(async () => {
    redis = withRedis ? await TestRedis.start() : undefined;
    t = await startTestApp({
      METERING_TRUST: 'service',
      THROTTLE_LIMIT: String(LIMIT),
      THROTTLE_TTL_SECONDS: '60',
      THROTTLE_AUTH_FAILURE_LIMIT: String(AUTH_FAILURES),
      ANONYMOUS_THROTTLE_LIMIT: String(ANONYMOUS),
      TRUST_PROXY: 'loopback',
      ...(redis ? { REDIS_URL: redis.url } : {}),
    });
    // The fixtures' admin and every other token get fresh ids: each has its own budget.
    f = new Fixtures(t, { users, prefix: 'thr', granter: tokenFor('admin') });
    const admin = principal('admin', 'thr-admin');
    service = await f.apiKey(admin, { name: 'gateway', permissions: ['usage:ingest'] });
    await t.http
      .post('/api/pricing')
      .set(bearer(tokenFor('admin')))
      .send({ modelId: model, pricePer1kTokens: '1' })
      .expect(201);
  });
  afterAll(async () => {
    await t?.close();
    await redis?.stop();
  });

  const asService = (path: string, body: Record<string, unknown>, from = GATEWAY) =>
    t.http.post(`/api/${path}`).set('X-Forwarded-For', from).set('X-API-Key', service.key).send(body);

  it(`100 metering calls a minute by one service key with THROTTLE_LIMIT=${LIMIT}: none throttled`, async () => {
    const u = await f.newUser({ credits: 1000 });
    const statuses: number[] = [];
    for (let i = 0; i < 100; i++) {
      statuses.push(
        (await asService('usage/record', { userId: u.id, service: 'chat', operation: 'c', credits: 1 })).status,
      );
    }
    expect(statuses.filter((s) => s !== 201)).toEqual([]);
    expect(await f.available(u.id)).toBe(900);
    await expectInvariants(t, users);
  });

  it('20 threads of initialize then finalize or abort by one service key: none throttled', async () => {
    const u = await f.newUser({ credits: 10_000 });
    const lanes = Array.from({ length: 20 }, (_, lane) => lane);
    const statuses = await Promise.all(
      lanes.map(async (lane) => {
        const seen: number[] = [];
        for (let i = 0; i < 4; i++) {
          const sessionId = `thr-${lane}-${i}-${randomUUID().slice(0, 8)}`;
          seen.push(
            (
              await asService('streaming-sessions/initialize', {
                userId: u.id,
                sessionId,
                modelId: model,
                estimatedTokens: 2000,
              })
            ).status,
          );
          const settle =
            i % 2 === 0
              ? asService('streaming-sessions/finalize', { userId: u.id, sessionId, actualTokens: 1000 })
              : asService('streaming-sessions/abort', { userId: u.id, sessionId, tokensGenerated: 500 });
          seen.push((await settle).status);
        }
        return seen;
      }),
    );
    const all = statuses.flat();
    expect(all).toHaveLength(160);
    expect(all.filter((s) => s === 429)).toEqual([]);
    expect(new Set(all)).toEqual(new Set([201, 200]));
    await expectInvariants(t, users);
  });

  it('an ordinary user has THROTTLE_LIMIT per user, whichever of their keys or tokens they use', async () => {
    const user = principal('user', 'thr-user');
    const keyA = await f.apiKey(user, { name: 'a' });
    const keyB = await f.apiKey(user, { name: 'b' });
    // Two key creations counted already; the rest of the window goes over three credentials.
    const credentials = [{ 'X-API-Key': keyA.key }, { 'X-API-Key': keyB.key }, user.auth];
    const statuses: number[] = [];
    for (let i = 0; i < LIMIT; i++) {
      statuses.push((await t.http.get('/api/credits/balance').set(credentials[i % 3])).status);
    }
    expect(statuses.filter((s) => s === 200)).toHaveLength(LIMIT - 2);
    expect(statuses.slice(LIMIT - 2)).toEqual([429, 429]);
    for (const credential of credentials) {
      const refused = await t.http.get('/api/credits/balance').set(credential);
      expect(refused.status).toBe(429);
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    }
    // Another user from the same address has a budget of their own.
    await t.http.get('/api/credits/balance').set(bearer(token())).expect(200);
  });

  it('30 wrong X-API-Key guesses from the gateway’s address do not lock its valid service key out', async () => {
    const from = '198.51.100.78';
    const u = await f.newUser({ credits: 100 });
    const owner = principal('user', 'thr-keyowner');
    const ordinary = await f.apiKey(owner, { name: 'ordinary' });
    for (let i = 0; i < AUTH_FAILURES; i++) {
      await t.http.get('/api/users/me').set('X-Forwarded-For', from).set('X-API-Key', badKey(i)).expect(401);
    }
    // The address is blocked: guesses and ordinary keys get 429, as before…
    const guess = await t.http.get('/api/users/me').set('X-Forwarded-For', from).set('X-API-Key', badKey(99));
    expect(guess.status).toBe(429);
    expect(Number(guess.headers['retry-after'])).toBeGreaterThan(0);
    await t.http.get('/api/users/me').set('X-Forwarded-For', from).set('X-API-Key', ordinary.key).expect(429);
    // …but the valid service key still meters.
    for (let i = 0; i < 5; i++) {
      await asService('usage/record', { userId: u.id, service: 'chat', operation: 'c', credits: 2 }, from).expect(201);
    }
    expect(await f.available(u.id)).toBe(90);
    await expectInvariants(t, users);
  });

  it('requests without any credential: ANONYMOUS_THROTTLE_LIMIT per address, then 429; a bad JWT stays 401', async () => {
    const from = '198.51.100.79';
    const statuses: number[] = [];
    for (let i = 0; i < ANONYMOUS; i++) {
      const path = i % 2 === 0 ? '/api/users/me' : '/api/pricing';
      statuses.push((await t.http.get(path).set('X-Forwarded-For', from)).status);
    }
    expect(statuses).toEqual(Array.from({ length: ANONYMOUS }, () => 401));
    for (const path of ['/api/users/me', '/api/pricing', '/api/credits/balance']) {
      const refused = await t.http.get(path).set('X-Forwarded-For', from);
      expect(refused.status).toBe(429);
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    }
    // Health checks are not counted, failed JWTs stay 401, good credentials pass; other addresses are free.
    await t.http.get('/api/health/ready').set('X-Forwarded-For', from).expect(200);
    for (let i = 0; i < 3; i++) {
      await t.http.get('/api/users/me').set('X-Forwarded-For', from).set(bearer('garbage')).expect(401);
    }
    await t.http.get('/api/users/me').set('X-Forwarded-For', from).set(bearer(token())).expect(200);
    await t.http.get('/api/users/me').set('X-Forwarded-For', '198.51.100.80').expect(401);
  });

  it('an admin token is a service principal too: its budget is SERVICE_THROTTLE_LIMIT', async () => {
    const admin = bearer(tokenFor('admin', uniqueId('thr-admin')));
    const statuses: number[] = [];
    for (let i = 0; i < LIMIT + 10; i++) statuses.push((await t.http.get('/api/credits/balance').set(admin)).status);
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
  });
});

describe('SERVICE_THROTTLE_LIMIT set', () => {
  it('limits a service key at its own value', async () => {
    const t = await startTestApp({ METERING_TRUST: 'service', THROTTLE_LIMIT: '2', SERVICE_THROTTLE_LIMIT: '5' });
    try {
      const f = new Fixtures(t, { prefix: 'thr5', granter: tokenFor('admin') });
      const key = await f.apiKey(principal('admin'), { name: 'svc', permissions: ['usage:ingest', 'pricing:read'] });
      const statuses: number[] = [];
      for (let i = 0; i < 7; i++) {
        statuses.push((await t.http.get('/api/pricing').set('X-API-Key', key.key)).status);
      }
      expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429]);
    } finally {
      await t.close();
    }
  });
});
