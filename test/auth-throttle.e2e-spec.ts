import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { bearer, startTestApp, TEST_INTERNAL_API_KEY, type TestApp, token, uniqueId } from './support/app.js';
import { freezeClock } from './support/clock.js';

// A failed JWT is always a 401, however many fail from one address; only guessing of secrets
// (API keys, the internal key, the metrics token) is throttled, per client address (TRUST_PROXY
// decides which). Once blocked, every such secret from that address is a 429, the right one too, until the block ends.

const PRODUCTION_LIMIT = '30';
const badKey = (fill: number) => `acs_live_${Buffer.alloc(32, fill).toString('base64url')}`;
const me = '/api/users/me';

describe('without TRUST_PROXY', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ THROTTLE_AUTH_FAILURE_LIMIT: PRODUCTION_LIMIT });
  });
  afterAll(() => t?.close());

  it('100 bad JWTs from one address are all 401, and a good token from it still passes', async () => {
    const sub = uniqueId('jwt');
    const unsigned = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${Buffer.from(
      JSON.stringify({ sub, type: 'access', exp: Math.floor(Date.now() / 1000) + 600 }),
    ).toString('base64url')}.`;
    const bad = [
      token({ sub }, { expiresIn: -60 }),
      token({ sub }, { secret: 'another-secret-another-secret-another' }),
      'not.a.jwt',
      unsigned,
      token({ sub, type: 'refresh' }),
    ];
    const statuses = new Set<number>();
    for (let i = 0; i < 100; i++) statuses.add((await t.http.get(me).set(bearer(bad[i % bad.length]))).status);
    expect([...statuses]).toEqual([401]);
    await t.http
      .get(me)
      .set(bearer(token({ sub })))
      .expect(200);
  });

  it('API-key guessing is throttled, and X-Forwarded-For does not let a guesser pose as new addresses', async () => {
    const limit = Number(PRODUCTION_LIMIT);
    for (let i = 0; i < limit; i++) {
      await t.http
        .get(me)
        .set('X-Forwarded-For', `198.51.100.${i}`)
        .set('X-API-Key', badKey(i % 200))
        .expect(401);
    }
    const blocked = await t.http.get(me).set('X-Forwarded-For', '198.51.100.250').set('X-API-Key', badKey(1));
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
    // JWTs from the same (blocked) address are unaffected.
    await t.http.get(me).set(bearer('garbage')).expect(401);
    await t.http.get(me).set(bearer(token())).expect(200);
  });
});

describe('with TRUST_PROXY', () => {
  it('a hop count: the address X-Forwarded-For names is the one throttled', async () => {
    const t = await startTestApp({ THROTTLE_AUTH_FAILURE_LIMIT: '2', TRUST_PROXY: '1' });
    try {
      const from = (ip: string) => ({ 'X-Forwarded-For': ip });
      await t.http.get(me).set(from('203.0.113.7')).set('X-API-Key', badKey(3)).expect(401);
      await t.http.get(me).set(from('203.0.113.7')).set('X-API-Key', badKey(3)).expect(401);
      await t.http.get(me).set(from('203.0.113.7')).set('X-API-Key', badKey(3)).expect(429);
      // Only the hop next to the proxy counts: what the client wrote before it does not.
      await t.http.get(me).set(from('192.0.2.1, 203.0.113.7')).set('X-API-Key', badKey(3)).expect(429);
      await t.http.get(me).set(from('203.0.113.8')).set('X-API-Key', badKey(3)).expect(401);
    } finally {
      await t.close();
    }
  });

  it('a CIDR list that does not hold the peer: X-Forwarded-For is ignored', async () => {
    const t = await startTestApp({ THROTTLE_AUTH_FAILURE_LIMIT: '2', TRUST_PROXY: '10.0.0.0/8' });
    try {
      for (const ip of ['203.0.113.1', '203.0.113.2'])
        await t.http.get(me).set('X-Forwarded-For', ip).set('X-API-Key', badKey(4)).expect(401);
      await t.http.get(me).set('X-Forwarded-For', '203.0.113.3').set('X-API-Key', badKey(4)).expect(429);
    } finally {
      await t.close();
    }
  });
});

describe('an address blocked for guessing secrets', () => {
  const INTERNAL_KEY = TEST_INTERNAL_API_KEY;
  const METRICS_TOKEN = 'metrics-token-of-the-throttle-spec-0123456789';
  const WINDOW_SECONDS = 60;
  let t: TestApp;
  let goodKey: string;
  let clock: { advance(ms: number): void };

  beforeAll(async () => {
    t = await startTestApp({
      THROTTLE_AUTH_FAILURE_LIMIT: PRODUCTION_LIMIT,
      THROTTLE_TTL_SECONDS: String(WINDOW_SECONDS),
      TRUST_PROXY: '1',
      METRICS_TOKEN,
    });
    const owner = bearer(token({ sub: uniqueId('key-owner') }));
    goodKey = (await t.http.post('/api/api-keys').set(owner).send({ name: 'throttle spec' }).expect(201)).body.key;
    clock = freezeClock(t);
  });
  afterAll(() => t?.close());

  const from = (ip: string) => ({ 'X-Forwarded-For': ip });
  const verify = (ip: string, internalKey: string) =>
    t.http
      .post('/api/api-keys/verify')
      .set(from(ip))
      .set('X-Internal-Api-Key', internalKey)
      .send({ key: badKey(9) });
  const withKey = (ip: string, key: string) => t.http.get(me).set(from(ip)).set('X-API-Key', key);
  const scrape = (ip: string, metricsToken: string) => t.http.get('/metrics').set(from(ip)).set(bearer(metricsToken));
  /** Every kind of secret, right and wrong, from `ip`: their statuses. */
  const everySecret = async (ip: string) => ({
    rightInternalKey: (await verify(ip, INTERNAL_KEY)).status,
    wrongInternalKey: (await verify(ip, 'wrong-internal-key')).status,
    rightApiKey: (await withKey(ip, goodKey)).status,
    wrongApiKey: (await withKey(ip, badKey(7))).status,
    rightMetricsToken: (await scrape(ip, METRICS_TOKEN)).status,
    wrongMetricsToken: (await scrape(ip, 'wrong-metrics-token')).status,
  });

  it('after 30 wrong internal keys, the right one is a 429 too, as is any secret, until the block ends', async () => {
    const ip = '203.0.113.60';
    for (let i = 0; i < Number(PRODUCTION_LIMIT); i++) await verify(ip, `wrong-${i}`).expect(401);
    const blocked = await verify(ip, INTERNAL_KEY);
    expect(blocked.status).toBe(429);
    expect(blocked.body.message).toBe('Too many failed authentication attempts');
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(blocked.headers['retry-after'])).toBeLessThanOrEqual(WINDOW_SECONDS);
    expect(await everySecret(ip)).toEqual({
      rightInternalKey: 429,
      wrongInternalKey: 429,
      rightApiKey: 429,
      wrongApiKey: 429,
      rightMetricsToken: 429,
      wrongMetricsToken: 429,
    });
    // JWTs are not such secrets, and other addresses are not blocked.
    await t.http.get(me).set(from(ip)).set(bearer('garbage')).expect(401);
    await t.http.get(me).set(from(ip)).set(bearer(token())).expect(200);
    await verify('203.0.113.61', INTERNAL_KEY).expect(200);

    clock.advance(WINDOW_SECONDS * 1000);
    expect(await everySecret(ip)).toEqual({
      rightInternalKey: 200,
      wrongInternalKey: 401,
      rightApiKey: 200,
      wrongApiKey: 401,
      rightMetricsToken: 200,
      wrongMetricsToken: 401,
    });
  });

  it('metrics-token guesses count with API-key and internal-key ones, and block the same way', async () => {
    const ip = '203.0.113.62';
    const third = Number(PRODUCTION_LIMIT) / 3;
    for (let i = 0; i < third; i++) {
      await scrape(ip, `guess-${i}`).expect(401);
      await verify(ip, `guess-${i}`).expect(401);
      await withKey(ip, badKey(i)).expect(401);
    }
    const blocked = await scrape(ip, METRICS_TOKEN);
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
  });

  it('30 wrong metrics tokens alone block the address', async () => {
    const ip = '203.0.113.63';
    for (let i = 0; i < Number(PRODUCTION_LIMIT); i++) await scrape(ip, `guess-${i}`).expect(401);
    await scrape(ip, METRICS_TOKEN).expect(429);
    await withKey(ip, goodKey).expect(429);
  });

  it('no secret is no attempt: requests without one are never counted or blocked', async () => {
    const ip = '203.0.113.64';
    for (let i = 0; i < 2 * Number(PRODUCTION_LIMIT); i++) {
      await t.http.get('/metrics').set(from(ip)).expect(401);
      await t.http.get(me).set(from(ip)).set('X-API-Key', '').expect(401);
    }
    await scrape(ip, METRICS_TOKEN).expect(200);
    await verify(ip, INTERNAL_KEY).expect(200);
  });
});
