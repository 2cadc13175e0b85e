import jwt from 'jsonwebtoken';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { bearer, startTestApp, TEST_JWT_SECRET, type TestApp, token, uniqueId } from './support/app.js';

/**
 * Fail closed (docs/trust-model.md "Who is calling (auth)"): a token living longer than JWT_MAX_TTL_SECONDS (default a day) is a 401
 * (a 100-year token was accepted), and with JWT_ISSUER / JWT_AUDIENCE set, `iss` / `aud` must match.
 * Each refused token is sent twice: the second request would be served by the accepted-token cache
 * if the first had put it there. Every refusal creates no account.
 */
const now = () => Math.floor(Date.now() / 1000);
const YEAR = 365 * 86_400;
const sign = (claims: Record<string, unknown>) =>
  jwt.sign({ type: 'access', role: 'admin', ...claims }, TEST_JWT_SECRET, { algorithm: 'HS256' });

async function expectRefusedTwice(t: TestApp, accessToken: string, sub: string): Promise<void> {
  for (let i = 0; i < 2; i++) {
    const res = await t.http.get('/api/users/me').set(bearer(accessToken)).expect(401);
    expect(res.body).toMatchObject({ statusCode: 401, error: 'Unauthorized' });
  }
  const { rowCount } = await t.db.query('SELECT 1 FROM user_accounts WHERE user_id = $1', [sub]);
  expect(rowCount).toBe(0);
}

describe('token lifetime (JWT_MAX_TTL_SECONDS default 86400)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t?.close());

  it.each([
    ['a 100-year admin token', (sub: string) => sign({ sub, iat: now(), exp: now() + 100 * YEAR })],
    ['a day and a second', (sub: string) => sign({ sub, iat: now(), exp: now() + 86_401 })],
    ['no iat, a year to go', (sub: string) => sign({ sub, exp: now() + YEAR })],
    [
      'a future iat hiding a far exp',
      (sub: string) => sign({ sub, iat: now() + 50 * YEAR, exp: now() + 50 * YEAR + 60 }),
    ],
  ])('%s → 401, also on the second request', async (_name, make) => {
    const sub = uniqueId('ttl');
    await expectRefusedTwice(t, make(sub), sub);
  });

  it('a token of exactly a day is accepted', async () => {
    const sub = uniqueId('day');
    const accessToken = sign({ sub, iat: now(), exp: now() + 86_400 });
    await t.http.get('/api/users/me').set(bearer(accessToken)).expect(200);
    await t.http.get('/api/users/me').set(bearer(accessToken)).expect(200);
  });
});

describe('JWT_ISSUER, JWT_AUDIENCE and a shorter JWT_MAX_TTL_SECONDS', () => {
  const ISSUER = 'https://auth.example';
  const AUDIENCE = 'accounting';
  let plain: TestApp;
  let strict: TestApp;
  beforeAll(async () => {
    plain = await startTestApp();
    strict = await startTestApp({ JWT_ISSUER: ISSUER, JWT_AUDIENCE: AUDIENCE, JWT_MAX_TTL_SECONDS: '600' });
  });
  afterAll(async () => {
    await plain?.close();
    await strict?.close();
  });

  it.each([
    ['no iss or aud', {}],
    ['another issuer', { iss: 'https://evil.example', aud: AUDIENCE }],
    ['another audience', { iss: ISSUER, aud: 'billing' }],
    ['an audience list without it', { iss: ISSUER, aud: ['billing', 'chat'] }],
  ])('%s → 401, also on the second request', async (_name, claims) => {
    const sub = uniqueId('iss');
    await expectRefusedTwice(strict, sign({ sub, exp: now() + 300, ...claims }), sub);
  });

  it('a token the other app accepted (and remembered) is still refused here: caches are per app', async () => {
    const sub = uniqueId('cache');
    const accessToken = token({ sub });
    await plain.http.get('/api/users/me').set(bearer(accessToken)).expect(200);
    await plain.http.get('/api/users/me').set(bearer(accessToken)).expect(200);
    for (let i = 0; i < 2; i++) await strict.http.get('/api/users/me').set(bearer(accessToken)).expect(401);
  });

  it('the right issuer and audience within 10 minutes are accepted; 11 minutes are not', async () => {
    const sub = uniqueId('ok');
    const good = sign({ sub, iss: ISSUER, aud: ['chat', AUDIENCE], iat: now(), exp: now() + 600 });
    const me = await strict.http.get('/api/users/me').set(bearer(good)).expect(200);
    expect(me.body.userId).toBe(sub);
    await strict.http.get('/api/users/me').set(bearer(good)).expect(200);
    const long = uniqueId('long');
    await expectRefusedTwice(
      strict,
      sign({ sub: long, iss: ISSUER, aud: AUDIENCE, iat: now(), exp: now() + 660 }),
      long,
    );
  });
});
