import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

import { bearer, startTestApp, type TestApp, token, uniqueId } from './support/app.js';
import { TestOnlyModule } from './support/test-only.controller.js';

// A lost database connection is a clean 503 that says whether the change may have committed.

let t: TestApp;
beforeAll(async () => {
  // As the tables' owner: the test-only marker route creates its own table (DDL the service role may not run).
  // No scheduled jobs: one firing while a case below waits for the pool to empty (pricing re-rates every
  // 10 s, session expiry every 30 s) opened connections of its own, and the pool was never empty.
  t = await startTestApp({ DATABASE_URL: inject('databaseUrl'), JOBS_ENABLED: 'false' }, { modules: [TestOnlyModule] });
});
afterAll(() => t?.close());

const noInternals = (body: unknown) => {
  const text = JSON.stringify(body);
  expect(text).not.toMatch(/SELECT|pg_terminate|at .*\.js|QueryRunner|stack/i);
};

describe('a lost database connection', () => {
  it('inside a transaction is 503 DATABASE_UNAVAILABLE (nothing committed), not a 500', async () => {
    const res = await t.http.post('/test-only/lost-in-transaction').set(bearer(token()));
    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({ statusCode: 503, error: 'Service Unavailable', code: 'DATABASE_UNAVAILABLE' });
    expect(res.body.requestId).toEqual(expect.any(String));
    noInternals(res.body);
  });

  it('during a read is 503 DATABASE_UNAVAILABLE', async () => {
    const res = await t.http.get('/test-only/lost-in-read').set(bearer(token()));
    expect(res.status).toBe(503);
    expect(res.body.code).toBe('DATABASE_UNAVAILABLE');
  });

  it('during a self-committing write statement is 503 OUTCOME_UNKNOWN', async () => {
    const res = await t.http.post('/test-only/lost-in-statement').set(bearer(token()));
    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({ statusCode: 503, code: 'OUTCOME_UNKNOWN' });
    expect(res.body.message).toMatch(/Idempotency-Key/);
    noInternals(res.body);
  });

  it('during COMMIT is 503 OUTCOME_UNKNOWN; a retry with the same Idempotency-Key tells the outcome', async () => {
    const sub = uniqueId('commit');
    const auth = bearer(token({ sub }));
    const key = `k-${sub}`;
    const lost = await t.http
      .post('/test-only/marker')
      .set(auth)
      .set('Idempotency-Key', key)
      .set('x-test-die-at-commit', '1')
      .send({});
    expect(lost.status).toBe(503);
    expect(lost.body.code).toBe('OUTCOME_UNKNOWN');
    // The retry learns the outcome: here the change had not committed, so it runs (once)… A 409 means
    // the dying backend still holds the key (its lock goes when the process has exited): retry.
    let retry = await t.http.post('/test-only/marker').set(auth).set('Idempotency-Key', key).send({});
    for (let i = 0; i < 200 && retry.status === 409; i++) {
      expect(retry.body.code).toBe('IDEMPOTENCY_IN_FLIGHT');
      retry = await t.http.post('/test-only/marker').set(auth).set('Idempotency-Key', key).send({});
    }
    expect(retry.status).toBe(201);
    expect(retry.body).toEqual({ markers: 1 });
    // …and every further retry replays it without running it again.
    const replay = await t.http.post('/test-only/marker').set(auth).set('Idempotency-Key', key).send({});
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.body).toEqual({ markers: 1 });
    const rows = await t.db.query('SELECT count(*)::int AS n FROM test_markers WHERE user_id = $1', [sub]);
    expect(rows.rows[0].n).toBe(1);
  });

  it('the app keeps serving after connections were lost', async () => {
    await t.http.get('/api/users/me').set(bearer(token())).expect(200);
  });
});

describe('log lines written outside a request', () => {
  it('"database connection lost" carries no request id, not the one of the request that opened the connection', async () => {
    const { DataSource } = await import('typeorm');
    const pool = (t.app.get(DataSource).driver as unknown as { master: { _clients: { processID: number }[] } }).master;
    const lost = () => t.logs.map((l) => JSON.parse(l)).filter((l) => l.msg === 'database connection lost');
    const terminateAll = async () => {
      const before = lost().length;
      const pids = pool._clients.map((c) => c.processID);
      await t.db.query('SELECT pg_terminate_backend(pid) FROM unnest($1::int[]) AS pid', [pids]);
      // Polls for the asynchronous effect (the pool's error events and the clients' removal).
      for (let i = 0; i < 250 && (pool._clients.length > 0 || lost().length < before + pids.length); i++)
        await new Promise((r) => setTimeout(r, 20));
      expect(pool._clients).toHaveLength(0);
    };
    // Connections opened at start-up (no request) go first, so the request below opens its own.
    await terminateAll();
    const requestId = `stale-${uniqueId('req')}`;
    await t.http.get('/api/users/me').set(bearer(token())).set('X-Request-Id', requestId).expect(200);
    const seen = lost().length;
    await terminateAll();
    const fresh = lost().slice(seen);
    expect(fresh.length).toBeGreaterThan(0);
    for (const line of fresh) expect(line.req).toBeUndefined();
    await t.http.get('/api/users/me').set(bearer(token())).expect(200);
  });
});
