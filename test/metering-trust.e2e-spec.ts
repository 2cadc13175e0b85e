import { randomUUID } from 'node:crypto';

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { bearer, startTestApp, type TestApp } from './support/app.js';
import { type CreatedApiKey, Fixtures, type FixtureUser, tokenFor } from './support/fixtures.js';
import { expectInvariants } from './support/invariants.js';

const admin = bearer(tokenFor('admin', 'metering-admin'));

/**
 * METERING_TRUST=service, the default (docs/trust-model.md "Who may meter (the trust model)"): the attacks an ordinary user
 * could make on what they are charged, each now refused, and the service principals' metering.
 * Prices: this file's model at 3 credits per 1k tokens, so 1000 tokens → 3 (hold 4), 100,000 → 300.
 */
describe('metering trust: service (default)', () => {
  let t: TestApp;
  let f: Fixtures;
  const users: string[] = [];
  const model = `trust-${randomUUID().slice(0, 8)}`;
  /** An admin-made service key: only usage:ingest. */
  let service: CreatedApiKey;
  const svc = () => ({ 'X-API-Key': service.key });

  const post = (path: string, auth: Record<string, string>, body: Record<string, unknown>) =>
    t.http.post(`/api/${path}`).set(auth).send(body);
  const init = (auth: Record<string, string>, body: Record<string, unknown>) =>
    post('streaming-sessions/initialize', auth, { modelId: model, ...body });
  const counts = async (userId: string) => {
    const { rows } = await t.db.query(
      `SELECT (SELECT count(*)::int FROM usage_records WHERE user_id = $1) AS records,
              (SELECT count(*)::int FROM streaming_sessions WHERE user_id = $1) AS sessions,
              (SELECT count(*)::int FROM credit_ledger WHERE member_id = $1) AS entries`,
      [userId],
    );
    return rows[0];
  };
  const spentOnKey = async (key: CreatedApiKey) =>
    (await t.http.get(`/api/api-keys/${key.id}`).set(admin).expect(200)).body.spentInPeriod;

  beforeAll(async () => {
    t = await startTestApp({ METERING_TRUST: 'service' });
    f = new Fixtures(t, { users, prefix: 'trust' });
    await post('pricing', admin, { modelId: model, pricePer1kTokens: '3' }).expect(201);
    service = await f.apiKey({ auth: admin }, { name: 'chat backend', permissions: ['usage:ingest'] });
  });
  afterAll(() => t.close());
  afterEach(async () => {
    await expectInvariants(t, users);
  });

  describe('the billed party cannot meter', () => {
    it('a user settles nothing: finalize and abort of the backend’s session → 403, the real finalize works', async () => {
      const u = await f.newUser({ credits: 100 });
      const sessionId = `conv-42-msg-${randomUUID().slice(0, 6)}`;
      await init(svc(), { userId: u.id, sessionId, estimatedTokens: 1000 }).expect(201);
      // The user sees the session (reads are unchanged) …
      const active = await t.http.get('/api/streaming-sessions/active').set(u.auth).expect(200);
      expect(active.body.items.map((s: { sessionId: string }) => s.sessionId)).toEqual([sessionId]);
      // … but cannot settle it for free, with a token or with a key of their own.
      const own = await f.apiKey(u, { name: 'own' });
      for (const auth of [u.auth, { 'X-API-Key': own.key }]) {
        const fin = await post('streaming-sessions/finalize', auth, { sessionId, actualTokens: 0 }).expect(403);
        expect(fin.body.code).toBe('METERING_REQUIRES_SERVICE');
        const ab = await post('streaming-sessions/abort', auth, { sessionId, tokensGenerated: 0 }).expect(403);
        expect(ab.body.code).toBe('METERING_REQUIRES_SERVICE');
      }
      expect(await f.available(u.id)).toBe(96);
      const real = await post('streaming-sessions/finalize', svc(), {
        userId: u.id,
        sessionId,
        actualTokens: 2000,
      }).expect(200);
      expect(real.body).toMatchObject({ sessionId, userId: u.id, status: 'completed', actualCredits: 6, refund: 0 });
      expect(await f.available(u.id)).toBe(94);
    });

    it('users, supervisors and users’ keys cannot record, batch or initialize; nothing is written', async () => {
      const u = await f.newUser({ credits: 100 });
      const supervisor = await f.newUser({ role: 'supervisor' });
      const key = await f.apiKey(u, { name: 'all scopes' });
      for (const auth of [u.auth, supervisor.auth, { 'X-API-Key': key.key }]) {
        const calls = [
          post('usage/record', auth, { service: 'chat', operation: 'c', credits: 5 }),
          post('usage/records/batch', auth, {
            events: [{ eventId: randomUUID(), service: 'chat', operation: 'c', credits: 5 }],
          }),
          init(auth, { estimatedTokens: 1000 }),
        ];
        for (const res of await Promise.all(calls)) {
          expect(res.status, JSON.stringify(res.body)).toBe(403);
          expect(res.body.code).toBe('METERING_REQUIRES_SERVICE');
        }
      }
      expect(await counts(u.id)).toEqual({ records: 0, sessions: 0, entries: 1 });
      expect(await counts(supervisor.id)).toEqual({ records: 0, sessions: 0, entries: 0 });
    });

    it('reads, check and calculate stay open to the user', async () => {
      const u = await f.newUser({ credits: 10 });
      await t.http.get('/api/credits/balance').set(u.auth).expect(200);
      await post('credits/check', u.auth, { credits: 5 }).expect(200);
      await post('credits/calculate', u.auth, { modelId: model, tokens: 1000 }).expect(200);
      await t.http.get('/api/usage/records').set(u.auth).expect(200);
    });
  });

  describe('service principals', () => {
    it('a service key names the user; answers carry it; the ledger names the service as writer', async () => {
      const u = await f.newUser({ credits: 100 });
      const rec = await post('usage/record', svc(), { userId: u.id, service: 'chat', operation: 'c', credits: 7 });
      expect(rec.status, JSON.stringify(rec.body)).toBe(201);
      expect(rec.body).toMatchObject({ userId: u.id, credits: 7 });
      const batch = await post('usage/records/batch', svc(), {
        events: [
          { eventId: randomUUID(), userId: u.id, service: 'chat', operation: 'c', credits: 2 },
          { eventId: randomUUID(), service: 'chat', operation: 'c', credits: 2 },
        ],
      }).expect(200);
      expect(batch.body.results.map((r: { status: string }) => r.status)).toEqual(['created', 'invalid']);
      expect(batch.body.results[1].error).toMatch(/must name the billed user/);
      expect(await f.available(u.id)).toBe(91);
      const { rows } = await t.db.query(
        `SELECT DISTINCT created_by FROM credit_ledger WHERE member_id = $1 AND kind = 'debit'`,
        [u.id],
      );
      expect(rows).toEqual([{ created_by: 'metering-admin' }]);
    });

    it('a service key without userId → 400, nothing written; an admin token without it meters its own account', async () => {
      const res = await post('usage/record', svc(), { service: 'chat', operation: 'c', credits: 1 }).expect(400);
      expect(res.body.message).toMatch(/userId/);
      const noUser = await init(svc(), { estimatedTokens: 10 }).expect(400);
      expect(noUser.body.message).toMatch(/userId/);
      const a = await f.newUser({ role: 'admin', credits: 10 });
      const own = await post('usage/record', a.auth, { service: 'chat', operation: 'c', credits: 3 }).expect(201);
      expect(own.body.userId).toBe(a.id);
      expect(await f.available(a.id)).toBe(7);
    });

    it('a user without an account → 404, nothing written, whatever the amount', async () => {
      const ghost = `ghost-${randomUUID().slice(0, 8)}`;
      const calls = [
        post('usage/record', svc(), { userId: ghost, service: 'chat', operation: 'c', credits: 0 }),
        post('usage/record', svc(), { userId: ghost, service: 'chat', operation: 'c', credits: 5 }),
        init(svc(), { userId: ghost, estimatedTokens: 0 }),
        init(svc(), { userId: ghost, estimatedTokens: 1000 }),
      ];
      for (const res of await Promise.all(calls)) {
        expect(res.status, JSON.stringify(res.body)).toBe(404);
        expect(res.body.code).toBe('NOT_FOUND');
      }
      expect(await counts(ghost)).toEqual({ records: 0, sessions: 0, entries: 0 });
    });

    it('apiKeyId of another user, unknown, revoked or expired → 400 API_KEY_MISMATCH, nothing written', async () => {
      const u = await f.newUser({ credits: 100 });
      const other = await f.newUser();
      const othersKey = await f.apiKey(other, { name: 'other' });
      const revoked = await f.apiKey(u, { name: 'revoked' });
      await t.http.delete(`/api/api-keys/${revoked.id}`).set(u.auth).expect(200);
      const expiring = await f.apiKey(u, {
        name: 'expiring',
        expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
      });
      await t.db.query(`UPDATE api_keys SET expires_at = now() - interval '1 second' WHERE id = $1`, [expiring.id]);
      for (const apiKeyId of [othersKey.id, randomUUID(), revoked.id, expiring.id]) {
        const calls = [
          post('usage/record', svc(), { userId: u.id, apiKeyId, service: 'chat', operation: 'c', credits: 1 }),
          init(svc(), { userId: u.id, apiKeyId, estimatedTokens: 1000 }),
        ];
        for (const res of await Promise.all(calls)) {
          expect(res.status, JSON.stringify(res.body)).toBe(400);
          expect(res.body.code).toBe('API_KEY_MISMATCH');
        }
      }
      await post('usage/record', svc(), {
        userId: u.id,
        apiKeyId: 'not-a-uuid',
        service: 'c',
        operation: 'c',
        credits: 1,
      }).expect(400);
      expect(await counts(u.id)).toEqual({ records: 0, sessions: 0, entries: 1 });
    });
  });

  describe('spend controls count everything a session spends', () => {
    it('a zero-estimate session’s overrun counts against the key; a used-up key refuses even a zero hold', async () => {
      const u = await f.newUser({ credits: 1000 });
      const key = await f.apiKey(u, { name: 'agent', creditLimit: 10, limitPeriod: 'day' });
      const sessionId = `zero-${randomUUID().slice(0, 8)}`;
      await init(svc(), { userId: u.id, apiKeyId: key.id, sessionId, estimatedTokens: 0 }).expect(201);
      const fin = await post('streaming-sessions/finalize', svc(), {
        userId: u.id,
        sessionId,
        actualTokens: 100_000,
      }).expect(200);
      expect(fin.body).toMatchObject({ actualCredits: 300, shortfall: 0 });
      // The overrun is owed (never refused) and counted: the key is past its budget and says so.
      expect(await spentOnKey(key)).toBe(300);
      const { rows } = await t.db.query(
        `SELECT count(*)::int AS n FROM events WHERE type = 'api_key.limit_reached' AND data->>'apiKeyId' = $1`,
        [key.id],
      );
      expect(rows[0].n).toBe(1);
      const refused = await init(svc(), { userId: u.id, apiKeyId: key.id, estimatedTokens: 0 }).expect(402);
      expect(refused.body.code).toBe('KEY_LIMIT_EXCEEDED');
      // Another of the user's keys, or none, still meters.
      await init(svc(), { userId: u.id, estimatedTokens: 0 }).expect(201);
    });

    it('a key spent to its budget by records refuses a zero-estimate initialize', async () => {
      const u = await f.newUser({ credits: 100 });
      const key = await f.apiKey(u, { name: 'agent', creditLimit: 10, limitPeriod: 'day' });
      await post('usage/record', svc(), {
        userId: u.id,
        apiKeyId: key.id,
        service: 'chat',
        operation: 'c',
        credits: 10,
      }).expect(201);
      expect(await spentOnKey(key)).toBe(10);
      const res = await init(svc(), { userId: u.id, apiKeyId: key.id, estimatedTokens: 0 }).expect(402);
      expect(res.body.code).toBe('KEY_LIMIT_EXCEEDED');
      expect(await spentOnKey(key)).toBe(10);
    });

    it('overruns count in the hourly window; a used-up window refuses a zero-estimate initialize', async () => {
      const u = await f.newUser({ credits: 1000 });
      await t.http.put(`/api/credits/limits/${u.id}`).set(admin).send({ maxCreditsPerHour: 20 }).expect(200);
      const first = `w-${randomUUID().slice(0, 8)}`;
      const second = `w-${randomUUID().slice(0, 8)}`;
      await init(svc(), { userId: u.id, sessionId: first, estimatedTokens: 0 }).expect(201);
      await init(svc(), { userId: u.id, sessionId: second, estimatedTokens: 0 }).expect(201);
      // 24 credits of overrun: owed, so taken, and the window now holds them.
      await post('streaming-sessions/finalize', svc(), { userId: u.id, sessionId: first, actualTokens: 8000 }).expect(
        200,
      );
      const refused = await init(svc(), { userId: u.id, estimatedTokens: 0 }).expect(429);
      expect(refused.body.code).toBe('SPEND_RATE_LIMITED');
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
      // A session opened before the window filled still settles (its usage happened).
      await post('streaming-sessions/finalize', svc(), { userId: u.id, sessionId: second, actualTokens: 1000 }).expect(
        200,
      );
      expect(await f.available(u.id)).toBe(1000 - 24 - 3);
    });
  });

  describe('session ids belong to their user', () => {
    it('user B using A’s session id neither learns of it nor touches it', async () => {
      const a = await f.newUser({ credits: 100 });
      const b = await f.newUser({ credits: 100 });
      const sessionId = `conv-42-msg-${randomUUID().slice(0, 6)}`;
      // B's backend call squats the id first; A's session of the same id is still A's own.
      const squat = await init(svc(), { userId: b.id, sessionId, estimatedTokens: 1000 }).expect(201);
      expect(squat.body).toMatchObject({ sessionId, userId: b.id });
      const mine = await init(svc(), { userId: a.id, sessionId, estimatedTokens: 10_000 }).expect(201);
      expect(mine.body).toMatchObject({ sessionId, userId: a.id, allocatedCredits: 36 });
      const settled = await post('streaming-sessions/finalize', svc(), {
        userId: a.id,
        sessionId,
        actualTokens: 5000,
      }).expect(200);
      expect(settled.body).toMatchObject({ userId: a.id, actualCredits: 15, refund: 21 });
      expect(await f.available(a.id)).toBe(85);
      expect(await f.available(b.id)).toBe(96);
      const { rows } = await t.db.query(`SELECT user_id, status FROM streaming_sessions WHERE session_id = $1`, [
        sessionId,
      ]);
      expect(rows.sort((x, y) => x.user_id.localeCompare(y.user_id))).toEqual(
        [
          { user_id: a.id, status: 'completed' },
          { user_id: b.id, status: 'active' },
        ].sort((x, y) => x.user_id.localeCompare(y.user_id)),
      );
      // The expiry job settles B's, not A's again.
      await t.db.query(
        `UPDATE streaming_sessions SET started_at = now() - interval '2 hours', expires_at = now()
          WHERE session_id = $1 AND user_id = $2`,
        [sessionId, b.id],
      );
      const { SessionExpiryJob } = await import('../src/streaming-sessions/session-expiry.job.js');
      expect(await t.app.get(SessionExpiryJob).expireAbandoned()).toBeGreaterThanOrEqual(1);
      const expired = await t.db.query(
        `SELECT data FROM events WHERE type = 'session.expired' AND data->>'sessionId' = $1`,
        [sessionId],
      );
      expect(expired.rows.map((r) => r.data.userId)).toEqual([b.id]);
      expect(await f.available(a.id)).toBe(85);
    });
  });

  it('pages of every active session list each of two users’ same-named sessions once, even started together', async () => {
    const a = await f.newUser({ credits: 100 });
    const b = await f.newUser({ credits: 100 });
    const sessionId = `twin-${randomUUID().slice(0, 8)}`;
    for (const u of [a, b]) await init(svc(), { userId: u.id, sessionId, estimatedTokens: 1000 }).expect(201);
    // The same start to the microsecond, and before every other active session of the run.
    await t.db.query(`UPDATE streaming_sessions SET started_at = '2000-01-01T00:00:00.123456Z' WHERE session_id = $1`, [
      sessionId,
    ]);
    const seen: string[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 2; page++) {
      const res = await t.http
        .get('/api/streaming-sessions/active/all')
        .query({ limit: 1, ...(cursor ? { cursor } : {}) })
        .set(admin)
        .expect(200);
      seen.push(...res.body.items.map((s: { sessionId: string; userId: string }) => `${s.sessionId}/${s.userId}`));
      cursor = res.body.nextCursor;
    }
    expect(seen.sort()).toEqual([`${sessionId}/${a.id}`, `${sessionId}/${b.id}`].sort());
    for (const u of [a, b]) await post('streaming-sessions/abort', svc(), { userId: u.id, sessionId }).expect(200);
  });

  it('a mixed parallel workload through service principals keeps the books', async () => {
    const people: FixtureUser[] = await Promise.all([1, 2, 3].map(() => f.newUser({ credits: 200 })));
    const requests = people.flatMap((u, i) =>
      Array.from({ length: 8 }, (_, j) => {
        const sessionId = `mix-${i}-${j}`;
        switch (j % 4) {
          case 0:
            return post('usage/record', svc(), { userId: u.id, service: 'chat', operation: 'c', credits: 3 });
          case 1:
            return post('usage/records/batch', svc(), {
              events: [{ eventId: randomUUID(), userId: u.id, service: 'chat', operation: 'c', credits: 2 }],
            });
          case 2:
            return init(svc(), { userId: u.id, sessionId, estimatedTokens: 2000 }).then(() =>
              post('streaming-sessions/finalize', svc(), { userId: u.id, sessionId, actualTokens: 3000 }),
            );
          default:
            return init(admin, { userId: u.id, sessionId, estimatedTokens: 1000 }).then(() =>
              post('streaming-sessions/abort', admin, { userId: u.id, sessionId, tokensGenerated: 500 }),
            );
        }
      }),
    );
    for (const res of await Promise.all(requests)) expect([200, 201], JSON.stringify(res.body)).toContain(res.status);
    // Each user: 2 records × 3, 2 batches × 2, 2 sessions × 9, 2 aborts × 2.
    for (const u of people) expect(await f.available(u.id)).toBe(200 - 6 - 4 - 18 - 4);
  });
});
