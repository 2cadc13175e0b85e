import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, startTestApp, token, uniqueId, type TestApp } from './support/app.js';
import { TestOnlyModule } from './support/test-only.controller.js';

// Issue 9: a lost database connection is a clean 503 that says whether the change may have committed.

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({}, { modules: [TestOnlyModule] });
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
    // The retry learns the outcome: here the change had not committed, so it runs (once)…
    const retry = await t.http.post('/test-only/marker').set(auth).set('Idempotency-Key', key).send({});
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
