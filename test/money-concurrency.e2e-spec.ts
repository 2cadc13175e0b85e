import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { bearer, startTestApp, TEST_INTERNAL_API_KEY, type TestApp, token, uniqueId } from './support/app.js';
import { Fixtures, tokenFor } from './support/fixtures.js';
import { expectInvariants } from './support/invariants.js';

const adminJwt = tokenFor('admin', 'streaming-admin');

const HAIKU = 'anthropic.claude-3-haiku-20240307-v1:0';

/**
 * Many requests of one user at once, over HTTP, on every route that moves credits: nothing is spent
 * twice, nothing is lost, and the invariants of docs/invariants.md (1–3) hold afterwards.
 */
describe('money paths under concurrency (HTTP)', () => {
  let t: TestApp;
  const users: string[] = [];
  let f: Fixtures;

  beforeAll(async () => {
    t = await startTestApp();
    f = new Fixtures(t, { users });
  });
  afterEach(() => expectInvariants(t, users));
  afterAll(() => t.close());

  const record = (jwt: string, credits: number) =>
    t.http.post('/api/usage/record').set(bearer(jwt)).send({ service: 'api', operation: 'call', credits });
  /** 4,000 haiku tokens at 0.25 per 1k: 1 credit. */
  const recordHaikuCredit = (jwt: string) =>
    t.http
      .post('/api/usage/record')
      .set(bearer(jwt))
      .send({ service: 'chat', operation: 'completion', modelId: HAIKU, tokens: 4000 });
  /** 20,000 haiku tokens: estimate 5, hold 6. */
  const initialize = (jwt: string) =>
    t.http
      .post('/api/streaming-sessions/initialize')
      .set(bearer(jwt))
      .send({ modelId: HAIKU, estimatedTokens: 20_000 });
  /** `n` requests sent at once. */
  const parallel = <T>(n: number, send: () => PromiseLike<T>) => Promise.all(Array.from({ length: n }, send));

  it('50 parallel records of 1 credit against a balance of 20: exactly 20 succeed, 30 get 402', async () => {
    const u = await f.newUser({ credits: [12, { credits: 8, expiryDays: 2 }] });
    const statuses = (await parallel(50, () => record(u.jwt, 1))).map((r) => r.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(20);
    expect(statuses.filter((s) => s === 402)).toHaveLength(30);
    expect(await f.available(u.id)).toBe(0);
    const { rows } = await t.db.query(
      `SELECT count(*)::int AS n, COALESCE(SUM(credits), 0)::int AS c FROM usage_records WHERE user_id = $1`,
      [u.id],
    );
    expect(rows[0]).toEqual({ n: 20, c: 20 });
  });

  it('token-priced records in parallel spend exactly what they price, soonest expiry first', async () => {
    const u = await f.newUser({
      credits: [
        { credits: 10, expiryDays: 30 },
        { credits: 5, expiryDays: 1 },
      ],
    });
    const results = await parallel(25, () => recordHaikuCredit(u.jwt));
    expect(results.filter((r) => r.status === 201)).toHaveLength(15);
    expect(results.filter((r) => r.status === 402)).toHaveLength(10);
    for (const r of results.filter((x) => x.status === 402)) {
      expect(r.body).toMatchObject({ statusCode: 402, requiredCredits: 1, availableCredits: 0 });
    }
    expect(await f.available(u.id)).toBe(0);
  });

  it('records, streaming holds, settlements and a void of one user at once stay consistent', async () => {
    const u = await f.newUser({
      credits: [
        { credits: 60, expiryDays: 3 },
        { credits: 40, expiryDays: 10 },
      ],
    });
    // Open a few sessions first so settlements can race with new holds and records.
    const opened = await parallel(4, () => initialize(u.jwt));
    const sessionIds = opened.filter((r) => r.status === 201).map((r) => r.body.sessionId as string);
    expect(sessionIds).toHaveLength(4); // 4 × ceil(5 × 1.2) = 24 held

    const admin = bearer(adminJwt);
    const [toVoid] = (
      await t.db.query(
        `SELECT id FROM credit_allocations WHERE account_id = (SELECT account_id FROM accounts WHERE user_id = $1) ORDER BY expires_at DESC LIMIT 1`,
        [u.id],
      )
    ).rows;
    const responses = await Promise.all([
      ...Array.from({ length: 20 }, () => record(u.jwt, 3)),
      ...Array.from({ length: 6 }, () => initialize(u.jwt)),
      ...sessionIds.map((sessionId, i) =>
        t.http
          .post('/api/streaming-sessions/finalize')
          .set(bearer(u.jwt))
          .send({ sessionId, actualTokens: i % 2 === 0 ? 4_000 : 60_000 }),
      ),
      t.http.post(`/api/credits/allocations/${toVoid.id}/void`).set(admin).send({ reason: 'race' }),
    ]);
    for (const r of responses) expect([200, 201, 402]).toContain(r.status);

    // Whatever interleaving happened: balance = granted − everything that left.
    const { rows } = await t.db.query(
      `SELECT (SELECT COALESCE(SUM(total_credits), 0) FROM credit_allocations WHERE account_id = (SELECT account_id FROM accounts WHERE user_id = $1))::int AS granted,
              (SELECT COALESCE(-SUM(amount), 0) FROM credit_ledger WHERE member_id = $1 AND kind <> 'grant')::int AS left_balance`,
      [u.id],
    );
    expect(await f.available(u.id)).toBe(rows[0].granted - rows[0].left_balance);

    // Close the sessions still open so the user ends without holds.
    const active = await t.http.get('/api/streaming-sessions/active').set(bearer(u.jwt)).expect(200);
    for (const s of active.body.items) {
      await t.http
        .post('/api/streaming-sessions/abort')
        .set(bearer(u.jwt))
        .send({ sessionId: s.sessionId })
        .expect(200);
    }
    const balance = await t.http.get('/api/credits/balance').set(bearer(u.jwt)).expect(200);
    expect(balance.body.heldCredits).toBe(0);
  });

  it('parallel records of different users never block each other into failure', async () => {
    const many = await parallel(10, () => f.newUser({ credits: 5 }));
    const results = await Promise.all(many.flatMap((u) => Array.from({ length: 5 }, () => record(u.jwt, 1))));
    expect(results.every((r) => r.status === 201)).toBe(true);
    for (const u of many) expect(await f.available(u.id)).toBe(0);
  });

  it('rejects a record for a user without any account row without writing anything', async () => {
    const ghost = uniqueId('ghost');
    // The first request creates the account; the user has no credits → 402, nothing written.
    const res = await record(token({ sub: ghost }), 1);
    expect(res.status).toBe(402);
    const { rows } = await t.db.query(
      `SELECT (SELECT count(*) FROM usage_records WHERE user_id = $1)::int AS records, (SELECT count(*) FROM credit_ledger WHERE member_id = $1)::int AS entries`,
      [ghost],
    );
    expect(rows[0]).toEqual({ records: 0, entries: 0 });
  });
});

describe('Idempotency-Key requests on a small pool', () => {
  let t: TestApp;
  const users: string[] = [];
  let f: Fixtures;

  beforeAll(async () => {
    t = await startTestApp({ DB_POOL_SIZE: '2' });
    f = new Fixtures(t, { users });
  });
  afterAll(async () => {
    await expectInvariants(t, users);
    await t.close();
  });

  // Each such request holds one pooled connection for its transaction; a read on a second connection
  // inside it would leave these requests waiting on each other until the connection timeout (503).
  it('settle, check and verify in parallel without needing a second connection each', async () => {
    const u = await f.newUser({ credits: 500 });
    const auth = bearer(u.jwt);
    const sessions: string[] = [];
    for (let i = 0; i < 6; i++) {
      sessions.push(
        (
          await t.http
            .post('/api/streaming-sessions/initialize')
            .set(auth)
            .send({ modelId: HAIKU, estimatedTokens: 8000 })
            .expect(201)
        ).body.sessionId,
      );
    }
    const { key } = await f.apiKey(u, { name: 'pool' });
    const responses = await Promise.all([
      ...sessions.map((sessionId, i) =>
        t.http
          .post('/api/streaming-sessions/finalize')
          .set(auth)
          .set('Idempotency-Key', `fin-${i}`)
          .send({ sessionId, actualTokens: 4000 }),
      ),
      ...[1, 2, 3].map((i) =>
        t.http.post('/api/credits/check').set(auth).set('Idempotency-Key', `chk-${i}`).send({ credits: 5 }),
      ),
      ...[1, 2, 3].map((i) =>
        t.http
          .post('/api/api-keys/verify')
          .set('X-Internal-Api-Key', TEST_INTERNAL_API_KEY)
          .set('Idempotency-Key', `ver-${i}`)
          .send({ key }),
      ),
    ]);
    // A request that held one connection while waiting for a second would get 503 after the pool's
    // connection timeout: every answer is a 200.
    expect(responses.map((r) => r.status)).toEqual([...sessions.map(() => 200), 200, 200, 200, 200, 200, 200]);
  });
});
