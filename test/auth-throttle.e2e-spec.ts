import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { bearer, startTestApp, type TestApp, token, uniqueId } from './support/app.js';

// Issue 9: after 30 failures a minute from one address an expired token got 429. A failed JWT is
// always a 401; only API-key guessing is throttled, per client address (TRUST_PROXY decides which).

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
