import { createHash, randomUUID } from 'node:crypto';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { ApiKeysService } from '../src/api-keys/api-keys.service.js';
import { DEFAULT_SCOPES, type Scope, SCOPES } from '../src/auth/roles.js';
import { bearer, startTestApp, TEST_INTERNAL_API_KEY, type TestApp, token, uniqueId } from './support/app.js';
import { type CreatedApiKey, Fixtures, principal } from './support/fixtures.js';

const INTERNAL = { 'X-Internal-Api-Key': TEST_INTERNAL_API_KEY };
const KEY_SHAPE = /^acs_live_[A-Za-z0-9_-]{43}$/;

const withKey = (key: string) => ({ 'X-API-Key': key });

describe('api keys', () => {
  let t: TestApp;
  let f: Fixtures;

  beforeAll(async () => {
    // Debug level: the log check below sees every line the app can write. The failure limit is
    // raised because this file provokes many 401s on purpose (the limit has its own spec file).
    t = await startTestApp({ LOG_LEVEL: 'debug', THROTTLE_AUTH_FAILURE_LIMIT: '100000' });
    f = new Fixtures(t);
  });
  afterAll(() => t.close());

  describe('create', () => {
    it('returns the key once, with a display prefix and every scope but the admin-only ones by default', async () => {
      const alice = principal();
      const before = Date.now();
      const created = await f.apiKey(alice, { name: 'ci pipeline' });
      expect(created).toMatchObject({
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        userId: alice.id,
        name: 'ci pipeline',
        permissions: [...DEFAULT_SCOPES],
        expiresAt: null,
        lastUsed: null,
        revokedAt: null,
        isActive: true,
        creditLimit: null,
        limitPeriod: null,
        spentInPeriod: null,
        periodResetsAt: null,
      });
      expect(created.key).toMatch(KEY_SHAPE);
      expect(created.prefix).toBe(created.key.slice(0, 16));
      expect(new Date((created as unknown as { createdAt: string }).createdAt).getTime()).toBeGreaterThanOrEqual(
        before - 5000,
      );

      const listed = await t.http.get('/api/api-keys').set(alice.auth).expect(200);
      expect(listed.body.items).toHaveLength(1);
      expect(listed.body.items[0]).not.toHaveProperty('key');
      expect(listed.body.items[0]).toMatchObject({ id: created.id, prefix: created.prefix, isActive: true });
      const one = await t.http.get(`/api/api-keys/${created.id}`).set(alice.auth).expect(200);
      expect(one.body).not.toHaveProperty('key');
      expect(one.body.id).toBe(created.id);
      // Every field of the create answer, the same, and nothing else.
      expect({ ...one.body, key: created.key }).toEqual(created);
    });

    it('stores the SHA-256 of the key and the chosen scopes in canonical order', async () => {
      const alice = principal();
      const created = await f.apiKey(alice, { permissions: ['usage:write', 'credits:read', 'usage:write'] });
      expect(created.permissions).toEqual(['credits:read', 'usage:write']);
      const { rows } = await t.db.query(`SELECT key_hash, prefix, permissions FROM api_keys WHERE id = $1`, [
        created.id,
      ]);
      expect(rows[0].key_hash.equals(createHash('sha256').update(created.key).digest())).toBe(true);
      expect(rows[0].permissions).toEqual(['credits:read', 'usage:write']);
    });

    it.each([
      ['an unknown scope', { name: 'x', permissions: ['credits:read', 'credits:write'] }],
      ['no scopes', { name: 'x', permissions: [] }],
      ['a past expiry', { name: 'x', expiresAt: new Date(Date.now() - 60_000).toISOString() }],
      ['an expiry that is not a date', { name: 'x', expiresAt: 'tomorrow' }],
      ['no name', {}],
      ['an empty name', { name: '' }],
      ['a name over 100 characters', { name: 'n'.repeat(101) }],
      ['an unknown field', { name: 'x', userId: 'someone-else' }],
    ])('refuses %s with 400', async (_case, body) => {
      const alice = principal();
      const res = await t.http.post('/api/api-keys').set(alice.auth).send(body).expect(400);
      expect(res.body.statusCode).toBe(400);
      const { rows } = await t.db.query(`SELECT count(*)::int AS n FROM api_keys WHERE user_id = $1`, [alice.id]);
      expect(rows[0].n).toBe(0);
    });

    it('accepts a future expiry', async () => {
      const expiresAt = new Date(Date.now() + 3_600_000).toISOString();
      const created = await f.apiKey(principal(), { expiresAt });
      expect(created.expiresAt).toBe(expiresAt);
      expect(created.isActive).toBe(true);
    });
  });

  describe('the plaintext key', () => {
    it('is in no table and no log line after a create, an idempotent replay and its use', async () => {
      const alice = principal();
      const idempotencyKey = randomUUID();
      const created = await f.apiKey(alice, { name: 'secret check' }, { 'Idempotency-Key': idempotencyKey });
      const replay = await t.http
        .post('/api/api-keys')
        .set(alice.auth)
        .set('Idempotency-Key', idempotencyKey)
        .send({ name: 'secret check' })
        .expect(201);
      expect(replay.body.id).toBe(created.id);
      expect(replay.body.key ?? null).toBeNull();
      await t.http.get('/api/users/me').set(withKey(created.key)).expect(200);
      await t.http.post('/api/api-keys/verify').set(INTERNAL).send({ key: created.key }).expect(200);
      await t.http
        .get('/api/users/me')
        .set(withKey(`${created.key.slice(0, -1)}x`))
        .expect(401);

      const secret = created.key.slice('acs_live_'.length);
      const rawBytes = Buffer.from(secret, 'base64url');
      const columns = await t.db.query<{ table_name: string; column_name: string; data_type: string }>(
        `SELECT c.table_name, c.column_name, c.data_type
           FROM information_schema.columns c
           JOIN information_schema.tables tb ON tb.table_schema = c.table_schema AND tb.table_name = c.table_name
          WHERE c.table_schema = 'public' AND tb.table_type = 'BASE TABLE'`,
      );
      const searchable = columns.rows.filter((c) =>
        ['text', 'character varying', 'character', 'json', 'jsonb', 'ARRAY', 'bytea', 'USER-DEFINED'].includes(
          c.data_type,
        ),
      );
      expect(searchable.map((c) => `${c.table_name}.${c.column_name}`)).toEqual(
        expect.arrayContaining(['api_keys.key_hash', 'api_keys.prefix', 'api_keys.name']),
      );

      const occurrences = async (needleText: string, needleBytes: Buffer[]): Promise<string[]> => {
        const found: string[] = [];
        for (const c of searchable) {
          const column = `"${c.column_name.replace(/"/g, '""')}"`;
          const table = `"${c.table_name.replace(/"/g, '""')}"`;
          const { rows } =
            c.data_type === 'bytea'
              ? await t.db.query(
                  `SELECT count(*)::int AS n FROM ${table} WHERE ${needleBytes.map((_, i) => `position($${i + 1}::bytea IN ${column}) > 0`).join(' OR ')}`,
                  needleBytes,
                )
              : await t.db.query(`SELECT count(*)::int AS n FROM ${table} WHERE strpos(${column}::text, $1) > 0`, [
                  needleText,
                ]);
          if (rows[0].n > 0) found.push(`${c.table_name}.${c.column_name}`);
        }
        return found;
      };

      // The search can see what is stored (display prefix, hash) ...
      expect(await occurrences(created.prefix, [createHash('sha256').update(created.key).digest()])).toEqual(
        expect.arrayContaining(['api_keys.prefix', 'api_keys.key_hash']),
      );
      // ... and finds neither the key, nor its random part, in text or as bytes.
      expect(await occurrences(secret, [Buffer.from(created.key), Buffer.from(secret), rawBytes])).toEqual([]);

      expect(t.logs.some((line) => line.includes('api key created') && line.includes(created.id))).toBe(true);
      expect(t.logs.filter((line) => line.includes(secret))).toEqual([]);
    });
  });

  describe('authentication with a key', () => {
    it('acts as its owner with role user, refreshing nothing', async () => {
      const admin = principal('admin');
      const created = await f.apiKey(admin);
      const me = await t.http.get('/api/users/me').set(withKey(created.key)).expect(200);
      expect(me.body.userId).toBe(admin.id);
      // The owner is an admin, the key is not: supervisor routes refuse it.
      await t.http.get('/api/users').set(withKey(created.key)).expect(403);
      await t.http.get('/api/users').set(admin.auth).expect(200);
      const { rows } = await t.db.query(`SELECT role FROM user_accounts WHERE user_id = $1`, [admin.id]);
      expect(rows[0].role).toBe('admin');
    });

    it('refuses unknown and malformed keys with 401, even next to a valid token', async () => {
      const alice = principal();
      const created = await f.apiKey(alice);
      const unknown = `acs_live_${Buffer.alloc(32, 7).toString('base64url')}`;
      for (const key of [unknown, 'not-a-key', `${created.key}x`, `x${created.key}`, created.key.toUpperCase()]) {
        const res = await t.http.get('/api/users/me').set(withKey(key)).expect(401);
        expect(res.body).toMatchObject({ statusCode: 401, error: 'Unauthorized' });
      }
      const both = await t.http.get('/api/users/me').set(alice.auth).set(withKey(unknown)).expect(401);
      expect(both.body.message).toBe('Invalid API key');
      // Without the header the token is used as before.
      await t.http.get('/api/users/me').set(alice.auth).expect(200);
    });

    it('keeps the JWT error messages when no key is sent', async () => {
      const expired = token({ sub: uniqueId() }, { expiresIn: -10 });
      const res = await t.http.get('/api/users/me').set(bearer(expired)).expect(401);
      expect(res.body.message).toMatch(/expired/i);
      const none = await t.http.get('/api/users/me').expect(401);
      expect(none.body.message).toBe('Authentication required');
    });

    it('records lastUsed off the request path, at most once a minute', async () => {
      const alice = principal();
      const created = await f.apiKey(alice);
      const keys = t.app.get(ApiKeysService);
      const lastUsed = async (): Promise<Date | null> =>
        (await t.db.query(`SELECT last_used FROM api_keys WHERE id = $1`, [created.id])).rows[0].last_used;
      await t.http.get('/api/users/me').set(withKey(created.key)).expect(200);
      await keys.touchesSettled();
      const first = await lastUsed();
      expect(first).toBeInstanceOf(Date);
      await Promise.all([1, 2, 3, 4, 5].map(() => t.http.get('/api/users/me').set(withKey(created.key)).expect(200)));
      await keys.touchesSettled();
      expect((await lastUsed())!.getTime()).toBe(first!.getTime());
      const listed = await t.http.get(`/api/api-keys/${created.id}`).set(alice.auth).expect(200);
      expect(listed.body.lastUsed).toBe(first!.toISOString());
    });

    it('cannot manage API keys', async () => {
      const alice = principal();
      const created = await f.apiKey(alice);
      await t.http.post('/api/api-keys').set(withKey(created.key)).send({ name: 'child' }).expect(403);
      await t.http.get('/api/api-keys').set(withKey(created.key)).expect(403);
      await t.http.get(`/api/api-keys/${created.id}`).set(withKey(created.key)).expect(403);
      await t.http.delete(`/api/api-keys/${created.id}`).set(withKey(created.key)).expect(403);
      const { rows } = await t.db.query(
        `SELECT count(*)::int AS n, bool_and(revoked_at IS NULL) AS live FROM api_keys WHERE user_id = $1`,
        [alice.id],
      );
      expect(rows[0]).toEqual({ n: 1, live: true });
    });
  });

  describe('scope matrix (every operation of the OpenAPI document)', () => {
    it('a key lacking the scope gets 403, a key with only that scope gets through; other routes refuse every key', async () => {
      const doc = (await t.http.get('/api/docs-json').expect(200)).body as {
        paths: Record<string, Record<string, { security?: Record<string, string[]>[]; 'x-required-scope'?: string }>>;
      };
      const owner = principal();
      const admin = principal('admin');
      const only = new Map<Scope, string>();
      const allBut = new Map<Scope, string>();
      // usage:ingest is admin-only: it widens usage:write, and the routes only a service principal may
      // call (failing an auto-recharge attempt) require it. Its keys are an admin's.
      for (const scope of DEFAULT_SCOPES) {
        only.set(scope, (await f.apiKey(owner, { name: `only ${scope}`, permissions: [scope] })).key);
        allBut.set(
          scope,
          (await f.apiKey(owner, { name: `all but ${scope}`, permissions: DEFAULT_SCOPES.filter((s) => s !== scope) }))
            .key,
        );
      }
      for (const scope of SCOPES.filter((s) => !DEFAULT_SCOPES.includes(s))) {
        only.set(scope, (await f.apiKey(admin, { name: `only ${scope}`, permissions: [scope] })).key);
        allBut.set(
          scope,
          (await f.apiKey(admin, { name: `all but ${scope}`, permissions: SCOPES.filter((s) => s !== scope) })).key,
        );
      }
      const fullKeys = [(await f.apiKey(owner)).key, (await f.apiKey(admin)).key];

      const call = (method: string, path: string, key: string) => {
        const url = path.replace(/\{[^}]+\}/g, () => randomUUID());
        const req = (t.http as unknown as Record<string, (u: string) => import('supertest').Test>)
          [method](url)
          .set(withKey(key));
        return ['post', 'put', 'patch'].includes(method) ? req.send({}) : req;
      };

      const checked = { scoped: [] as string[], refused: [] as string[] };
      for (const [path, item] of Object.entries(doc.paths)) {
        for (const method of ['get', 'post', 'put', 'patch', 'delete']) {
          const op = item[method];
          if (!op?.security?.length) continue; // public
          const name = `${method.toUpperCase()} ${path}`;
          const schemes = op.security.flatMap((s) => Object.keys(s));
          if (schemes.includes('api-key')) {
            const scope = op['x-required-scope'];
            expect(scope, `${name} documents its scope`).toBeDefined();
            if (scope !== 'any') {
              expect(SCOPES, name).toContain(scope);
              const lacking = await call(method, path, allBut.get(scope as Scope)!);
              expect(lacking.status, `${name} without ${scope}`).toBe(403);
            }
            const keyWithIt = scope === 'any' ? only.get('pricing:read')! : only.get(scope as Scope)!;
            const having = await call(method, path, keyWithIt);
            expect([401, 403], `${name} with ${scope}: ${having.status} ${JSON.stringify(having.body)}`).not.toContain(
              having.status,
            );
            checked.scoped.push(name);
          } else {
            expect(op['x-required-scope'], name).toBeUndefined();
            for (const key of fullKeys) {
              const res = await call(method, path, key);
              expect(res.status, `${name} with a full key (${JSON.stringify(res.body)})`).toBe(403);
            }
            checked.refused.push(name);
          }
        }
      }
      expect(checked.scoped).toContain('GET /api/users/me');
      expect(checked.refused).toEqual(
        expect.arrayContaining([
          'GET /api/users',
          'POST /api/api-keys',
          'GET /api/api-keys',
          'GET /api/api-keys/{id}',
          'PATCH /api/api-keys/{id}',
          'DELETE /api/api-keys/{id}',
          'POST /api/api-keys/verify',
        ]),
      );
    });

    it('documents the internal key scheme on verify and no API-key scheme on key management', async () => {
      const doc = (await t.http.get('/api/docs-json').expect(200)).body;
      expect(doc.components.securitySchemes['internal-api-key']).toMatchObject({
        type: 'apiKey',
        in: 'header',
        name: 'X-Internal-Api-Key',
      });
      const verify = doc.paths['/api/api-keys/verify'].post;
      expect(verify.security).toEqual(expect.arrayContaining([{ bearer: [] }, { 'internal-api-key': [] }]));
      expect(Object.keys(verify.responses)).toEqual(expect.arrayContaining(['200', '400', '401', '403']));
      const create = doc.paths['/api/api-keys'].post;
      expect(create.security).toEqual([{ bearer: [] }]);
      expect(create.responses['201'].content['application/json'].schema.$ref).toMatch(/CreatedApiKeyResponseDto$/);
      expect(doc.components.schemas.ApiKeyResponseDto.properties).not.toHaveProperty('key');
    });
  });

  describe('revoke', () => {
    it('refuses the key on its next use and answers the revoked key (idempotently)', async () => {
      const alice = principal();
      const created = await f.apiKey(alice);
      await t.http.get('/api/users/me').set(withKey(created.key)).expect(200);
      const revoked = await t.http.delete(`/api/api-keys/${created.id}`).set(alice.auth).expect(200);
      expect(revoked.body).toMatchObject({ id: created.id, isActive: false, revokedAt: expect.any(String) });
      expect(revoked.body).not.toHaveProperty('key');
      const res = await t.http.get('/api/users/me').set(withKey(created.key)).expect(401);
      expect(res.body.message).toBe('API key revoked');
      const again = await t.http.delete(`/api/api-keys/${created.id}`).set(alice.auth).expect(200);
      expect(again.body.revokedAt).toBe(revoked.body.revokedAt);
      const listed = await t.http.get('/api/api-keys').set(alice.auth).expect(200);
      expect(listed.body.items).toEqual([expect.objectContaining({ id: created.id, isActive: false })]);
    });

    it("answers 404 for another user's key (get and delete) and leaves it working", async () => {
      const alice = principal();
      const bob = principal();
      const alicesKey = await f.apiKey(alice);
      await t.http.delete(`/api/api-keys/${alicesKey.id}`).set(bob.auth).expect(404);
      await t.http.get(`/api/api-keys/${alicesKey.id}`).set(bob.auth).expect(404);
      await t.http.delete(`/api/api-keys/${randomUUID()}`).set(bob.auth).expect(404);
      await t.http.delete('/api/api-keys/not-a-uuid').set(bob.auth).expect(400);
      const bobs = await t.http.get('/api/api-keys').set(bob.auth).expect(200);
      expect(bobs.body.items).toEqual([]);
      await t.http.get('/api/users/me').set(withKey(alicesKey.key)).expect(200);
    });

    it("lets an admin revoke any user's key", async () => {
      const alice = principal();
      const admin = principal('admin');
      const created = await f.apiKey(alice);
      const res = await t.http.delete(`/api/api-keys/${created.id}`).set(admin.auth).expect(200);
      expect(res.body).toMatchObject({ id: created.id, userId: alice.id, isActive: false });
      await t.http.get('/api/users/me').set(withKey(created.key)).expect(401);
    });
  });

  describe('expiry', () => {
    it('refuses a key once its expiry has passed', async () => {
      const alice = principal();
      const created = await f.apiKey(alice, { expiresAt: new Date(Date.now() + 3_600_000).toISOString() });
      await t.http.get('/api/users/me').set(withKey(created.key)).expect(200);
      await t.db.query(`UPDATE api_keys SET expires_at = now() - interval '1 second' WHERE id = $1`, [created.id]);
      const res = await t.http.get('/api/users/me').set(withKey(created.key)).expect(401);
      expect(res.body.message).toBe('API key expired');
      const listed = await t.http.get(`/api/api-keys/${created.id}`).set(alice.auth).expect(200);
      expect(listed.body.isActive).toBe(false);
      expect(listed.body.revokedAt).toBeNull();
    });

    it('expires on its own once its expiresAt has passed', async () => {
      const created = await f.apiKey(principal(), { expiresAt: new Date(Date.now() + 86_400_000).toISOString() });
      await t.http.get('/api/users/me').set(withKey(created.key)).expect(200);
      // Its time passes (set by SQL, not waited for).
      await t.db.query(`UPDATE api_keys SET expires_at = now() WHERE id = $1`, [created.id]);
      await t.http.get('/api/users/me').set(withKey(created.key)).expect(401);
    });
  });

  describe('list', () => {
    it("admins list any user's keys; users only their own", async () => {
      const alice = principal();
      const bob = principal();
      const admin = principal('admin');
      const created = await f.apiKey(alice);
      const res = await t.http.get('/api/api-keys').query({ userId: alice.id }).set(admin.auth).expect(200);
      expect(res.body.items.map((k: CreatedApiKey) => k.id)).toEqual([created.id]);
      expect(res.body.items[0]).not.toHaveProperty('key');
      // bob may not see alice's account (404); a supervisor sees it but needs admin for its keys (403).
      await t.http.get('/api/api-keys').query({ userId: alice.id }).set(bob.auth).expect(404);
      await t.http.get('/api/api-keys').query({ userId: alice.id }).set(principal('supervisor').auth).expect(403);
      const own = await t.http.get('/api/api-keys').query({ userId: alice.id }).set(alice.auth).expect(200);
      expect(own.body.items).toHaveLength(1);
    });

    it('pages newest first with an opaque cursor', async () => {
      const alice = principal();
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) ids.push((await f.apiKey(alice, { name: `k${i}` })).id);
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const res: { body: { items: CreatedApiKey[]; nextCursor: string | null } } = await t.http
          .get('/api/api-keys')
          .query({ limit: 2, ...(cursor ? { cursor } : {}) })
          .set(alice.auth)
          .expect(200);
        expect(res.body.items.length).toBeLessThanOrEqual(2);
        seen.push(...res.body.items.map((k: CreatedApiKey) => k.id));
        cursor = res.body.nextCursor;
      } while (cursor);
      expect(seen).toEqual([...ids].reverse());
      await t.http.get('/api/api-keys').query({ cursor: 'garbage' }).set(alice.auth).expect(400);
      const forged = Buffer.from(JSON.stringify({ t: 'x', id: 'y' })).toString('base64url');
      await t.http.get('/api/api-keys').query({ cursor: forged }).set(alice.auth).expect(400);
    });
  });

  describe('verify', () => {
    it('answers valid, unknown, revoked and expired to the internal key', async () => {
      const alice = principal();
      const valid = await f.apiKey(alice, { permissions: ['usage:write'] });
      const revoked = await f.apiKey(alice);
      const expired = await f.apiKey(alice);
      await t.http.delete(`/api/api-keys/${revoked.id}`).set(alice.auth).expect(200);
      await t.db.query(`UPDATE api_keys SET expires_at = now() - interval '1 second' WHERE id = $1`, [expired.id]);

      const verify = (key: string) => t.http.post('/api/api-keys/verify').set(INTERNAL).send({ key }).expect(200);
      expect((await verify(valid.key)).body).toEqual({
        valid: true,
        keyId: valid.id,
        userId: alice.id,
        permissions: ['usage:write'],
        orgId: null,
      });
      expect((await verify(`acs_live_${Buffer.alloc(32, 1).toString('base64url')}`)).body).toEqual({
        valid: false,
        reason: 'unknown',
      });
      expect((await verify('garbage')).body).toEqual({ valid: false, reason: 'unknown' });
      expect((await verify(revoked.key)).body).toEqual({ valid: false, reason: 'revoked' });
      expect((await verify(expired.key)).body).toEqual({ valid: false, reason: 'expired' });
    });

    it('accepts an admin token and refuses everyone else', async () => {
      const alice = principal();
      const created = await f.apiKey(alice);
      const body = { key: created.key };
      const asAdmin = await t.http.post('/api/api-keys/verify').set(principal('admin').auth).send(body).expect(200);
      expect(asAdmin.body).toMatchObject({ valid: true, keyId: created.id });

      await t.http.post('/api/api-keys/verify').send(body).expect(401);
      const wrong = await t.http
        .post('/api/api-keys/verify')
        .set('X-Internal-Api-Key', 'internal-test-kez')
        .send(body)
        .expect(401);
      expect(wrong.body.message).toBe('Invalid internal API key');
      await t.http.post('/api/api-keys/verify').set('X-Internal-Api-Key', '').send(body).expect(401);
      // A wrong internal key is not rescued by a valid admin token.
      await t.http
        .post('/api/api-keys/verify')
        .set('X-Internal-Api-Key', 'nope')
        .set(principal('admin').auth)
        .send(body)
        .expect(401);
      await t.http.post('/api/api-keys/verify').set(alice.auth).send(body).expect(403);
      await t.http.post('/api/api-keys/verify').set(principal('supervisor').auth).send(body).expect(403);
      await t.http.post('/api/api-keys/verify').set(withKey(created.key)).send(body).expect(403);
      await t.http.post('/api/api-keys/verify').set(bearer('not.a.jwt')).send(body).expect(401);
      await t.http.post('/api/api-keys/verify').set(INTERNAL).send({ key: created.key, extra: 1 }).expect(400);
    });
  });
});
