import { generateKeyPairSync, randomUUID } from 'node:crypto';

import jwt from 'jsonwebtoken';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { bearer, startTestApp, TEST_JWT_SECRET, type TestApp, token, uniqueId } from './support/app.js';

const b64url = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
const now = () => Math.floor(Date.now() / 1000);

describe('authentication and accounts', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t?.close());

  describe('JWT matrix: every bad token is a 401 in the error shape', () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const cases: Array<[string, () => Record<string, string>]> = [
      ['no credentials', () => ({})],
      ['an empty bearer', () => ({ Authorization: 'Bearer ' })],
      ['another auth scheme', () => ({ Authorization: `Basic ${Buffer.from('alice:pw').toString('base64')}` })],
      ['garbage', () => bearer('not.a.jwt')],
      ['random bytes', () => bearer(Buffer.from(randomUUID()).toString('base64url'))],
      [
        'alg: none',
        () =>
          bearer(
            `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url({ sub: uniqueId(), type: 'access', role: 'admin', exp: now() + 3600 })}.`,
          ),
      ],
      ['a wrong secret', () => bearer(token({}, { secret: 'another-secret-that-is-long-enough-012345' }))],
      ['HS512 with the right secret (algorithm switching)', () => bearer(token({}, { algorithm: 'HS512' }))],
      ['HS384 with the right secret', () => bearer(token({}, { algorithm: 'HS384' }))],
      [
        'RS256 (asymmetric algorithm switching)',
        () =>
          bearer(
            jwt.sign({ sub: uniqueId(), type: 'access', role: 'admin' }, privateKey, {
              algorithm: 'RS256',
              expiresIn: 3600,
            }),
          ),
      ],
      [
        'an expired token',
        () =>
          bearer(
            jwt.sign({ sub: uniqueId(), type: 'access', exp: now() - 10 }, TEST_JWT_SECRET, { algorithm: 'HS256' }),
          ),
      ],
      ['no exp', () => bearer(jwt.sign({ sub: uniqueId(), type: 'access' }, TEST_JWT_SECRET, { algorithm: 'HS256' }))],
      [
        'a non-numeric exp',
        () =>
          bearer(
            `${b64url({ alg: 'HS256', typ: 'JWT' })}.${b64url({ sub: uniqueId(), type: 'access', exp: 'tomorrow' })}.x`,
          ),
      ],
      ['not yet valid (nbf)', () => bearer(token({}, { notBefore: 600 }))],
      ['type: refresh', () => bearer(token({ type: 'refresh' }))],
      [
        'no type',
        () => bearer(jwt.sign({ sub: uniqueId() }, TEST_JWT_SECRET, { algorithm: 'HS256', expiresIn: 3600 })),
      ],
      [
        'no sub',
        () =>
          bearer(jwt.sign({ type: 'access', role: 'admin' }, TEST_JWT_SECRET, { algorithm: 'HS256', expiresIn: 3600 })),
      ],
      [
        'an empty sub',
        () => bearer(jwt.sign({ sub: '', type: 'access' }, TEST_JWT_SECRET, { algorithm: 'HS256', expiresIn: 3600 })),
      ],
      [
        'a numeric sub',
        () => bearer(jwt.sign({ sub: 42, type: 'access' }, TEST_JWT_SECRET, { algorithm: 'HS256', expiresIn: 3600 })),
      ],
      ['a sub over 50 characters', () => bearer(token({ sub: 'x'.repeat(51) }))],
      [
        'a tampered payload',
        () => {
          const [header, , signature] = token({ sub: uniqueId() }).split('.');
          return bearer(
            `${header}.${b64url({ sub: uniqueId(), type: 'access', role: 'admin', exp: now() + 3600 })}.${signature}`,
          );
        },
      ],
    ];

    it.each(cases)('%s → 401', async (_name, headers) => {
      const res = await t.http.get('/api/users/me').set(headers()).expect(401);
      expect(res.body).toMatchObject({ statusCode: 401, error: 'Unauthorized', message: expect.any(String) });
    });

    it('a bad token creates no account', async () => {
      const sub = uniqueId('ghost');
      await t.http
        .get('/api/users/me')
        .set(bearer(token({ sub }, { secret: 'another-secret-that-is-long-enough-012345' })))
        .expect(401);
      await t.http
        .get('/api/users/me')
        .set(bearer(token({ sub, type: 'refresh' })))
        .expect(401);
      const { rowCount } = await t.db.query('SELECT 1 FROM user_accounts WHERE user_id = $1', [sub]);
      expect(rowCount).toBe(0);
    });

    it('a sub of exactly 50 characters is accepted', async () => {
      const sub = `s${randomUUID().replace(/-/g, '')}`.padEnd(50, 'x');
      const res = await t.http
        .get('/api/users/me')
        .set(bearer(token({ sub })))
        .expect(200);
      expect(res.body.userId).toBe(sub);
    });
  });

  describe('roles', () => {
    it.each([
      ['an unknown role', { role: 'superuser' }],
      ['no role', { role: undefined }],
      ['a role of the wrong type', { role: ['admin'] as unknown as string }],
    ])('%s acts as user: /api/users/me 200, supervisor route 403', async (_name, claims) => {
      const sub = uniqueId();
      const me = await t.http
        .get('/api/users/me')
        .set(bearer(token({ sub, ...claims })))
        .expect(200);
      expect(me.body).toMatchObject({ userId: sub, role: 'user' });
      const list = await t.http
        .get('/api/users')
        .set(bearer(token({ sub, ...claims })))
        .expect(403);
      expect(list.body).toMatchObject({ statusCode: 403, error: 'Forbidden' });
      const row = await t.db.query('SELECT role FROM user_accounts WHERE user_id = $1', [sub]);
      expect(row.rows[0].role).toBe('user');
    });

    it.each(['supervisor', 'admin'])('%s may list users', async (role) => {
      await t.http
        .get('/api/users')
        .set(bearer(token({ role })))
        .expect(200);
    });
  });

  describe('accounts follow the token', () => {
    const account = async (sub: string) =>
      (
        await t.db.query('SELECT email, username, role, created_at, updated_at FROM user_accounts WHERE user_id = $1', [
          sub,
        ])
      ).rows[0];

    it('the first request creates the account with the token claims', async () => {
      const sub = uniqueId();
      const res = await t.http
        .get('/api/users/me')
        .set(bearer(token({ sub, email: `${sub}@corp.io`, username: 'Ann' })))
        .expect(200);
      expect(res.body).toEqual({
        userId: sub,
        email: `${sub}@corp.io`,
        username: 'Ann',
        role: 'user',
        createdAt: expect.any(String),
        totalCredits: 0,
      });
      expect(await account(sub)).toMatchObject({ email: `${sub}@corp.io`, username: 'Ann', role: 'user' });
    });

    it('a role change in the token takes effect at once and updates the row', async () => {
      const sub = uniqueId();
      await t.http
        .get('/api/users')
        .set(bearer(token({ sub, role: 'user' })))
        .expect(403);
      const before = await account(sub);
      expect(before.role).toBe('user');

      await t.http
        .get('/api/users')
        .set(bearer(token({ sub, role: 'supervisor' })))
        .expect(200);
      const promoted = await account(sub);
      expect(promoted.role).toBe('supervisor');
      expect(promoted.updated_at.getTime()).toBeGreaterThan(before.updated_at.getTime());
      expect(promoted.created_at.getTime()).toBe(before.created_at.getTime());

      // And back down: the old, higher role is not remembered.
      await t.http
        .get('/api/users')
        .set(bearer(token({ sub, role: 'user' })))
        .expect(403);
      expect((await account(sub)).role).toBe('user');
    });

    it('email and username changes are stored; absent claims keep what is known', async () => {
      const sub = uniqueId();
      await t.http
        .get('/api/users/me')
        .set(bearer(token({ sub, email: 'old@x.io', username: 'old' })))
        .expect(200);
      await t.http
        .get('/api/users/me')
        .set(bearer(token({ sub, email: 'new@x.io', username: 'new' })))
        .expect(200);
      expect(await account(sub)).toMatchObject({ email: 'new@x.io', username: 'new' });
      const bare = jwt.sign({ sub, type: 'access' }, TEST_JWT_SECRET, { algorithm: 'HS256', expiresIn: 3600 });
      const me = await t.http.get('/api/users/me').set(bearer(bare)).expect(200);
      expect(me.body).toMatchObject({ email: 'new@x.io', username: 'new', role: 'user' });
    });

    it('no database write when nothing changed, in this process or a fresh one', async () => {
      const sub = uniqueId();
      const claims = { sub, role: 'supervisor', email: `${sub}@x.io`, username: sub };
      await t.http
        .get('/api/users/me')
        .set(bearer(token(claims)))
        .expect(200);
      // Back-dated, so any later write (updated_at = now()) shows, however soon it comes.
      await t.db.query(`UPDATE user_accounts SET updated_at = '2001-01-01Z' WHERE user_id = $1`, [sub]);
      const first = await account(sub);
      for (let i = 0; i < 3; i++)
        await t.http
          .get('/api/users/me')
          .set(bearer(token(claims)))
          .expect(200);
      expect((await account(sub)).updated_at.getTime()).toBe(first.updated_at.getTime());

      // A second instance knows nothing in memory: the upsert still leaves an unchanged row alone.
      const other = await startTestApp();
      try {
        await other.http
          .get('/api/users/me')
          .set(bearer(token(claims)))
          .expect(200);
      } finally {
        await other.close();
      }
      const after = await account(sub);
      expect(after.updated_at.getTime()).toBe(first.updated_at.getTime());
      expect(after.role).toBe('supervisor');
    });

    it('the same email on two accounts locks nobody out', async () => {
      const email = `shared-${uniqueId()}@x.io`;
      const [a, b] = [uniqueId('a'), uniqueId('b')];
      const first = await t.http
        .get('/api/users/me')
        .set(bearer(token({ sub: a, email })))
        .expect(200);
      const second = await t.http
        .get('/api/users/me')
        .set(bearer(token({ sub: b, email })))
        .expect(200);
      expect(first.body).toMatchObject({ userId: a, email });
      expect(second.body).toMatchObject({ userId: b, email });
      // An email moving to a third account, concurrently, still never fails.
      const c = uniqueId('c');
      const results = await Promise.all(
        [a, b, c].map((sub) => t.http.get('/api/users/me').set(bearer(token({ sub, email: `moved-${email}` })))),
      );
      expect(results.map((r) => r.status)).toEqual([200, 200, 200]);
    });

    it('concurrent first requests of one new sub create one account without errors', async () => {
      const sub = uniqueId();
      const results = await Promise.all(
        Array.from({ length: 8 }, () => t.http.get('/api/users/me').set(bearer(token({ sub })))),
      );
      expect(results.map((r) => r.status)).toEqual(Array(8).fill(200));
      const { rowCount } = await t.db.query('SELECT 1 FROM user_accounts WHERE user_id = $1', [sub]);
      expect(rowCount).toBe(1);
    });
  });

  describe('GET /api/users', () => {
    it('searches by id, email or username and pages with a cursor', async () => {
      const tag = uniqueId('srch').replace(/-/g, '');
      const subs = Array.from({ length: 5 }, (_, i) => `${tag}-${i}`);
      for (const sub of subs)
        await t.http
          .get('/api/users/me')
          .set(bearer(token({ sub, email: `${sub}@x.io`, username: `name-${sub}` })))
          .expect(200);
      const admin = bearer(token({ role: 'admin' }));

      const seen: string[] = [];
      let cursor: string | undefined;
      for (let page = 0; page < 5; page++) {
        const res = await t.http
          .get('/api/users')
          .query({ search: tag, limit: 2, ...(cursor ? { cursor } : {}) })
          .set(admin)
          .expect(200);
        expect(res.body.items.length).toBeLessThanOrEqual(2);
        for (const item of res.body.items) {
          expect(item).toMatchObject({
            userId: expect.any(String),
            role: 'user',
            totalCredits: expect.any(Number),
            createdAt: expect.any(String),
          });
        }
        seen.push(...res.body.items.map((i: { userId: string }) => i.userId));
        cursor = res.body.nextCursor ?? undefined;
        if (!cursor) break;
      }
      expect(seen.sort()).toEqual([...subs].sort());
      expect(cursor).toBeUndefined();

      const byEmail = await t.http
        .get('/api/users')
        .query({ search: `${subs[3]}@X.IO` })
        .set(admin)
        .expect(200);
      expect(byEmail.body.items.map((i: { userId: string }) => i.userId)).toEqual([subs[3]]);
      const byName = await t.http
        .get('/api/users')
        .query({ search: `name-${subs[1]}` })
        .set(admin)
        .expect(200);
      expect(byName.body.items.map((i: { userId: string }) => i.userId)).toEqual([subs[1]]);
      // LIKE wildcards are literal.
      const wildcard = await t.http
        .get('/api/users')
        .query({ search: `${tag}%` })
        .set(admin)
        .expect(200);
      expect(wildcard.body).toEqual({ items: [], nextCursor: null });
    });
  });
});

describe('OpenAPI walk: every documented operation refuses anonymous callers', () => {
  let t: TestApp;
  let doc: { paths: Record<string, Record<string, any>>; components: { securitySchemes: Record<string, unknown> } };
  beforeAll(async () => {
    t = await startTestApp();
    doc = (await t.http.get('/api/docs-json').expect(200)).body;
  });
  afterAll(() => t?.close());

  const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;
  const operations = () =>
    Object.entries(doc.paths).flatMap(([path, item]) =>
      METHODS.filter((m) => item[m]).map((method) => ({
        path,
        method,
        op: item[method],
        params: [...(item.parameters ?? []), ...(item[method].parameters ?? [])],
      })),
    );
  const dummy = (schema: { type?: string; format?: string } | undefined) =>
    schema?.format === 'uuid'
      ? randomUUID()
      : schema?.type === 'integer' || schema?.type === 'number'
        ? '1'
        : 'dummy-1';
  const urlOf = (path: string, params: Array<{ in: string; name: string; schema?: any }>) =>
    path.replace(/\{([^}]+)\}/g, (_m, name) =>
      encodeURIComponent(dummy(params.find((p) => p.in === 'path' && p.name === name)?.schema)),
    );
  const isPublic = (op: { security?: unknown[] }) => !op.security || op.security.length === 0;

  it('documents the foundation routes', () => {
    const names = operations().map((o) => `${o.method.toUpperCase()} ${o.path}`);
    expect(names).toEqual(
      expect.arrayContaining([
        'GET /health',
        'GET /api/health',
        'GET /api/health/ready',
        'GET /api/users/me',
        'GET /api/users',
      ]),
    );
  });

  it('every protected operation answers 401 without credentials (and public ones 200)', async () => {
    const failures: string[] = [];
    let protectedCount = 0;
    for (const { path, method, op, params } of operations()) {
      const url = urlOf(path, params);
      const req = t.http[method](url).set('Content-Type', 'application/json');
      const res = method === 'get' || method === 'delete' ? await req : await req.send({});
      const name = `${method.toUpperCase()} ${path}`;
      if (isPublic(op)) {
        const ok = method === 'get' ? res.status === 200 : res.status !== 401 && res.status !== 403 && res.status < 500;
        if (!ok) failures.push(`${name} (public): ${res.status}`);
      } else {
        protectedCount++;
        if (res.status !== 401 || res.body?.statusCode !== 401)
          failures.push(`${name}: ${res.status} ${JSON.stringify(res.body)}`);
      }
    }
    expect(failures).toEqual([]);
    expect(protectedCount).toBeGreaterThanOrEqual(2);
  });

  it('every protected operation also refuses an invalid token and documents its 401/403 and scheme', async () => {
    const bad = bearer(token({}, { secret: 'another-secret-that-is-long-enough-012345' }));
    const failures: string[] = [];
    for (const { path, method, op, params } of operations()) {
      if (isPublic(op)) continue;
      const name = `${method.toUpperCase()} ${path}`;
      const req = t.http[method](urlOf(path, params)).set(bad).set('Content-Type', 'application/json');
      const res = method === 'get' || method === 'delete' ? await req : await req.send({});
      if (res.status !== 401) failures.push(`${name}: ${res.status} with an invalid token`);
      if (!op.responses?.['401']) failures.push(`${name}: 401 not documented`);
      const schemes = (op.security as Array<Record<string, unknown>>).flatMap((s) => Object.keys(s));
      for (const scheme of schemes)
        if (!doc.components.securitySchemes[scheme]) failures.push(`${name}: unknown scheme ${scheme}`);
    }
    expect(failures).toEqual([]);
  });
});

describe('failed authentication: JWTs are never throttled, API-key guessing is, per address', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ THROTTLE_AUTH_FAILURE_LIMIT: '3', TRUST_PROXY: 'loopback' });
  });
  afterAll(() => t?.close());

  it('expired, malformed and wrongly signed tokens stay 401 however many arrive from one address', async () => {
    const expired = token({ sub: uniqueId('exp') }, { expiresIn: -60 });
    const wrong = token({ sub: uniqueId('ws') }, { secret: 'wrong-secret-wrong-secret-wrong-secret' });
    for (let i = 0; i < 40; i++) {
      const res = await t.http.get('/api/users/me').set(bearer([expired, 'garbage', wrong][i % 3]));
      expect(res.status).toBe(401);
    }
    await t.http.get('/api/users/me').set(bearer(token())).expect(200);
  });

  it('after 3 bad API keys the 4th is 429 with Retry-After; JWTs from that address still pass or fail with 401', async () => {
    const badKey = `acs_live_${Buffer.alloc(32, 7).toString('base64url')}`;
    const from = { 'X-Forwarded-For': '203.0.113.9' };
    for (let i = 0; i < 3; i++) await t.http.get('/api/users/me').set(from).set('X-API-Key', badKey).expect(401);
    const blocked = await t.http.get('/api/users/me').set(from).set('X-API-Key', badKey).expect(429);
    expect(blocked.body).toMatchObject({ statusCode: 429, error: 'Too Many Requests' });
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
    await t.http.get('/api/users/me').set(from).set(bearer('garbage')).expect(401);
    await t.http.get('/api/users/me').set(from).set(bearer(token())).expect(200);
    // With TRUST_PROXY the forwarded address is the client: another address is not blocked.
    await t.http.get('/api/users/me').set({ 'X-Forwarded-For': '203.0.113.10' }).set('X-API-Key', badKey).expect(401);
  });
});
