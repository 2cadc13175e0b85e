import type { Response } from 'supertest';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { bearer, servicePool, startTestApp, type TestApp, uniqueId } from './support/app.js';
import { Fixtures, tokenFor } from './support/fixtures.js';
import { expectInvariants } from './support/invariants.js';

const adminJwt = tokenFor('admin', 'streaming-admin');

// On the real money routes: a connection lost in the middle of record, initialize,
// finalize, void or the idempotency store is a clean 503 that moved nothing, never a 500.

let t: TestApp;
const users: string[] = [];
let f: Fixtures;
beforeAll(async () => {
  t = await startTestApp();
  f = new Fixtures(t, { users });
});
afterAll(() => t?.close());
afterEach(() => expectInvariants(t, users));

/**
 * Holds a lock from another connection (`lockSql`), sends the request, waits until the request's
 * backend is blocked behind that lock, terminates that backend and lets go of the lock: the
 * connection dies deterministically in the middle of the request's work.
 */
async function killWhileBlocked(
  lockSql: string,
  params: unknown[],
  send: () => PromiseLike<Response>,
  { app = t, beforeKill }: { app?: TestApp; beforeKill?: () => Promise<void> } = {},
) {
  const holder = await app.db.connect();
  try {
    await holder.query('BEGIN');
    await holder.query(lockSql, params);
    const [{ pid: holderPid }] = (await holder.query('SELECT pg_backend_pid() AS pid')).rows;
    const pending = Promise.resolve(send());
    let victim: number | undefined;
    // Polls for the request reaching the lock (a database state, not a timing assumption).
    for (let i = 0; i < 1000 && victim === undefined; i++) {
      const { rows } = await app.db.query('SELECT pid FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))', [
        holderPid,
      ]);
      victim = rows[0]?.pid;
      if (victim === undefined) await new Promise((r) => setTimeout(r, 5));
    }
    expect(victim, 'the request never blocked on the lock').toBeDefined();
    await beforeKill?.();
    await app.db.query('SELECT pg_terminate_backend($1)', [victim]);
    await holder.query('ROLLBACK');
    const res = await pending;
    // Until the terminated backend is gone its transaction still holds its locks (an idempotency
    // key's among them: a retry at once could be a legitimate 409 "still in flight").
    for (let i = 0; i < 1000; i++) {
      const { rowCount } = await app.db.query('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [victim]);
      if (rowCount === 0) break;
      await new Promise((r) => setTimeout(r, 5));
    }
    return res;
  } finally {
    holder.release();
  }
}

const LOCK_ACCOUNT = 'SELECT 1 FROM user_accounts WHERE user_id = $1 FOR UPDATE';

function expectClean503(res: Response, code: 'DATABASE_UNAVAILABLE' | 'OUTCOME_UNKNOWN') {
  expect(res.status, JSON.stringify(res.body)).toBe(503);
  expect(res.body).toEqual({
    statusCode: 503,
    error: 'Service Unavailable',
    code,
    message: expect.any(String),
    requestId: expect.any(String),
  });
  expect(JSON.stringify(res.body)).not.toMatch(/SELECT|INSERT|credits_take|QueryRunner|terminat|\.js:\d/i);
}

const usageRows = async (userId: string) =>
  (await t.db.query('SELECT count(*)::int AS n FROM usage_records WHERE user_id = $1', [userId])).rows[0].n;

describe('a connection lost in the middle of a money route', () => {
  // A record keeps its Idempotency-Key in its one self-committing statement (docs/usage.md "Idempotency
  // (every POST)"): a connection lost in it could have committed, so the answer is OUTCOME_UNKNOWN,
  // and the retry with the key tells: it runs once.
  it('record with an Idempotency-Key: 503 OUTCOME_UNKNOWN, nothing written; the retry runs once', async () => {
    const u = await f.newUser({ credits: 100 });
    const key = uniqueId('rec');
    const record = () => f.recordUsage(u, 7, key);
    const lost = await killWhileBlocked(LOCK_ACCOUNT, [u.id], record);
    expectClean503(lost, 'OUTCOME_UNKNOWN');
    expect(await f.available(u.id)).toBe(100);
    expect(await usageRows(u.id)).toBe(0);

    const retry = await record();
    expect(retry.status).toBe(201);
    const replay = await record();
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.body.id).toBe(retry.body.id);
    expect(await f.available(u.id)).toBe(93);
    expect(await usageRows(u.id)).toBe(1);
  });

  it('a record charged to an org with an Idempotency-Key: 503, pool and member counter untouched; the retry runs once', async () => {
    const m = await f.newUser({ credits: 10 });
    const orgId = uniqueId('orgf').toLowerCase();
    await t.db.query(`INSERT INTO orgs (org_id, name, created_by) VALUES ($1, $1, 'admin')`, [orgId]);
    await t.db.query(
      `WITH m AS (INSERT INTO org_members (org_id, user_id, role) VALUES ($1, $2, 'member'))
       INSERT INTO credit_caps (subject_kind, subject_id, account_id, credit_limit, period)
       VALUES ('member', $2, (SELECT account_id FROM accounts WHERE org_id = $1), 20, 'day')`,
      [orgId, m.id],
    );
    await t.db.query(
      `SELECT 1 FROM credits_grant((SELECT account_id FROM accounts WHERE org_id = $1), 100, 'admin', now() + interval '1 day', NULL, 'manual', NULL, NULL, NULL, false)`,
      [orgId],
    );
    const money = async () =>
      (
        await t.db.query(
          `SELECT credit_available((SELECT account_id FROM accounts WHERE org_id = $1))::int AS pool,
                  credit_cap_spent('member', $2, (SELECT account_id FROM accounts WHERE org_id = $1), 'day', now())::int AS spent,
                  (SELECT count(*)::int FROM usage_records WHERE org_id = $1) AS records`,
          [orgId, m.id],
        )
      ).rows[0];
    const key = uniqueId('orgrec');
    const record = () =>
      t.http
        .post('/api/usage/record')
        .set(bearer(m.jwt))
        .set('Idempotency-Key', key)
        .send({ service: 'chat', operation: 'completion', credits: 7, orgId });
    // The org account's row: the take's lock waits behind it.
    const lost = await killWhileBlocked('SELECT 1 FROM accounts WHERE org_id = $1 FOR UPDATE', [orgId], record);
    expectClean503(lost, 'OUTCOME_UNKNOWN');
    expect(await money()).toEqual({ pool: 100, spent: 0, records: 0 });

    const retry = await record();
    expect(retry.status, JSON.stringify(retry.body)).toBe(201);
    expect(retry.body).toMatchObject({ orgId, userId: m.id, credits: 7 });
    expect((await record()).headers['idempotent-replayed']).toBe('true');
    expect(await money()).toEqual({ pool: 93, spent: 7, records: 1 });
    expect(await f.available(m.id)).toBe(10);
  });

  it('record as one self-committing statement: 503 OUTCOME_UNKNOWN (it could have committed), nothing written here', async () => {
    const u = await f.newUser({ credits: 100 });
    const lost = await killWhileBlocked(LOCK_ACCOUNT, [u.id], () =>
      t.http
        .post('/api/usage/record')
        .set(bearer(u.jwt))
        .send({ service: 'chat', operation: 'completion', credits: 7 }),
    );
    expectClean503(lost, 'OUTCOME_UNKNOWN');
    expect(lost.body.message).toMatch(/Idempotency-Key/);
    expect(await f.available(u.id)).toBe(100);
    expect(await usageRows(u.id)).toBe(0);
  });

  it('initialize as one self-committing statement: 503 OUTCOME_UNKNOWN, no hold and no session; the retry succeeds', async () => {
    const u = await f.newUser({ credits: 100 });
    const sessionId = uniqueId('sess');
    const initialize = () =>
      t.http
        .post('/api/streaming-sessions/initialize')
        .set(bearer(u.jwt))
        .send({ sessionId, modelId: 'anthropic.claude-3-sonnet-20240229-v1:0', estimatedTokens: 1000 });
    const lost = await killWhileBlocked(LOCK_ACCOUNT, [u.id], initialize);
    expectClean503(lost, 'OUTCOME_UNKNOWN');
    expect(await f.available(u.id)).toBe(100);
    expect((await t.db.query('SELECT 1 FROM streaming_sessions WHERE session_id = $1', [sessionId])).rowCount).toBe(0);

    const retry = await initialize();
    expect(retry.status, JSON.stringify(retry.body)).toBe(201);
    expect(await f.available(u.id)).toBe(100 - retry.body.allocatedCredits);
  });

  it('finalize as one self-committing statement: 503 OUTCOME_UNKNOWN, the session still active with its hold; the retry settles it', async () => {
    const u = await f.newUser({ credits: 100 });
    const started = await t.http
      .post('/api/streaming-sessions/initialize')
      .set(bearer(u.jwt))
      .send({ modelId: 'anthropic.claude-3-sonnet-20240229-v1:0', estimatedTokens: 1000 })
      .expect(201);
    const { sessionId, allocatedCredits } = started.body;
    const finalize = () =>
      t.http.post('/api/streaming-sessions/finalize').set(bearer(u.jwt)).send({ sessionId, actualTokens: 500 });
    const lost = await killWhileBlocked(LOCK_ACCOUNT, [u.id], finalize);
    expectClean503(lost, 'OUTCOME_UNKNOWN');
    const { rows } = await t.db.query('SELECT status FROM streaming_sessions WHERE session_id = $1', [sessionId]);
    expect(rows[0].status).toBe('active');
    expect(await f.available(u.id)).toBe(100 - allocatedCredits);

    const retry = await finalize();
    expect(retry.status, JSON.stringify(retry.body)).toBe(200);
    expect(retry.body.status).toBe('completed');
    expect(await f.available(u.id)).toBe(100 - retry.body.actualCredits);
  });

  it('void: 503 DATABASE_UNAVAILABLE, the allocation untouched; the retry voids it', async () => {
    const u = await f.newUser({ credits: 50 });
    const [allocationId] = u.allocationIds;
    const voidIt = () =>
      t.http.post(`/api/credits/allocations/${allocationId}/void`).set(bearer(adminJwt)).send({ reason: 'fault test' });
    await t.http.get('/api/users/me').set(bearer(adminJwt)).expect(200);
    const lost = await killWhileBlocked(LOCK_ACCOUNT, [u.id], voidIt);
    expectClean503(lost, 'DATABASE_UNAVAILABLE');
    expect(await f.available(u.id)).toBe(50);

    const retry = await voidIt();
    expect(retry.status, JSON.stringify(retry.body)).toBe(200);
    expect(retry.body.remainingCredits).toBe(0);
    expect(await f.available(u.id)).toBe(0);
  });

  it('storing the idempotent response: 503 OUTCOME_UNKNOWN, the effect rolled back with the key', async () => {
    const u = await f.newUser({ credits: 100 });
    const key = uniqueId('store');
    const record = () => f.recordUsage(u, 3, key);
    // An uncommitted row with the same (principal, key) makes the store's INSERT wait on the primary key.
    const lost = await killWhileBlocked(
      `INSERT INTO idempotency_keys (principal, key, fingerprint, method, path, status_code)
       VALUES ($1, $2, repeat('0', 64), 'POST', '/api/usage/record', 201)`,
      [`user:${u.id}`, key],
      record,
    );
    expectClean503(lost, 'OUTCOME_UNKNOWN');
    expect(await f.available(u.id)).toBe(100);
    expect(await usageRows(u.id)).toBe(0);

    const retry = await record();
    expect(retry.status, JSON.stringify(retry.body)).toBe(201);
    expect(await f.available(u.id)).toBe(97);
  });
});

describe('a connection whose backend was terminated', () => {
  it('is not lent to the next request: one waiting for the pool meanwhile is served', async () => {
    // One connection: the request waiting for it gets exactly the one whose backend is terminated.
    const small = await startTestApp({ DB_POOL_SIZE: '1' });
    try {
      const pool = servicePool(small);
      const u = await new Fixtures(small, { users }).newUser({ credits: 100 });
      let waiting!: Promise<Response>;
      const lost = await killWhileBlocked(
        LOCK_ACCOUNT,
        [u.id],
        () =>
          small.http
            .post('/api/usage/record')
            .set(bearer(u.jwt))
            .send({ service: 'chat', operation: 'op', credits: 1 }),
        {
          app: small,
          beforeKill: async () => {
            waiting = Promise.resolve(small.http.get('/api/users/me').set(bearer(u.jwt)));
            // Polls for the second request queueing for the pool's only connection.
            for (let i = 0; i < 1000 && pool.waitingCount === 0; i++) await new Promise((r) => setTimeout(r, 2));
            expect(pool.waitingCount).toBeGreaterThan(0);
          },
        },
      );
      expectClean503(lost, 'OUTCOME_UNKNOWN');
      const next = await waiting;
      expect(next.status, JSON.stringify(next.body)).toBe(200);
      expect(next.body.userId).toBe(u.id);
    } finally {
      await small.close();
    }
  });
});
