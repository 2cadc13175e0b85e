import { randomUUID } from 'node:crypto';

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { SessionExpiryJob } from '../src/streaming-sessions/session-expiry.job.js';
import { bearer, startTestApp, type TestApp } from './support/app.js';
import { expireSessionNow } from './support/clock.js';
import { Fixtures } from './support/fixtures.js';
import { expectInvariants } from './support/invariants.js';

/**
 * Concurrency and expiry. The seeded sonnet rule (3 credits per 1k tokens, effective since 2024)
 * prices these sessions: 1000 estimated tokens → estimate 3, hold 4.
 */
const SONNET = 'anthropic.claude-3-sonnet-20240229-v1:0';

describe('streaming sessions under concurrency', () => {
  let t: TestApp;
  const users: string[] = [];
  let f: Fixtures;

  beforeAll(async () => {
    t = await startTestApp();
    f = new Fixtures(t, { users });
  });
  afterAll(() => t.close());
  afterEach(async () => {
    await expectInvariants(t, users);
  });

  const init = (jwt: string, body: Record<string, unknown>) =>
    t.http
      .post('/api/streaming-sessions/initialize')
      .set(bearer(jwt))
      .send({ modelId: SONNET, ...body });

  it('30 parallel initializes holding 4 each against a balance of 41 → exactly 10 succeed', async () => {
    const u = await f.newUser({
      credits: [
        { credits: 20, expiryDays: 5 },
        { credits: 21, expiryDays: 40 },
      ],
    });
    const results = await Promise.all(Array.from({ length: 30 }, () => init(u.jwt, { estimatedTokens: 1000 })));
    const statuses = results.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 201)).toHaveLength(10);
    expect(statuses.filter((s) => s === 402)).toHaveLength(20);
    for (const r of results.filter((r) => r.status === 201))
      expect(r.body).toMatchObject({ estimatedCredits: 3, allocatedCredits: 4 });
    expect(await f.available(u.id)).toBe(1);
    const { rows } = await t.db.query(`SELECT count(*)::int AS n FROM streaming_sessions WHERE user_id = $1`, [u.id]);
    expect(rows[0].n).toBe(10);
    const balance = await t.http.get('/api/credits/balance').set(bearer(u.jwt)).expect(200);
    expect(balance.body).toMatchObject({ totalCredits: 1, heldCredits: 40 });
  });

  it('10 finalizes + 10 aborts + the expiry job on one session → exactly one settlement', async () => {
    const u = await f.newUser({ credits: 50 });
    const { body: s } = await init(u.jwt, { estimatedTokens: 1000 }).expect(201);
    // Make the session due for expiry too, so all three paths compete for it.
    await t.db.query(
      `UPDATE streaming_sessions SET started_at = now() - interval '2 hours', expires_at = now() - interval '1 hour' WHERE session_id = $1`,
      [s.sessionId],
    );
    const service = t.app.get(SessionExpiryJob);
    const post = (path: string, body: Record<string, unknown>) =>
      t.http.post(`/api/streaming-sessions/${path}`).set(bearer(u.jwt)).send(body);
    const [expiredCount, ...responses] = await Promise.all([
      service.expireAbandoned(),
      ...Array.from({ length: 10 }, () => post('finalize', { sessionId: s.sessionId, actualTokens: 2000 })),
      ...Array.from({ length: 10 }, () => post('abort', { sessionId: s.sessionId, tokensGenerated: 500 })),
    ]);
    const finalizes = responses.slice(0, 10);
    const aborts = responses.slice(10);
    for (const r of responses) expect([200, 409]).toContain(r.status);

    const { rows } = await t.db.query(
      `SELECT status, actual_credits, refund FROM streaming_sessions WHERE session_id = $1`,
      [s.sessionId],
    );
    const { status, actual_credits: charged } = rows[0];
    const ok = (rs: typeof responses) => rs.filter((r) => r.status === 200);
    if (status === 'completed') {
      expect(ok(finalizes)).toHaveLength(10);
      expect(ok(aborts)).toHaveLength(0);
      expect(charged).toBe(6);
      for (const r of finalizes) expect(r.body).toEqual(finalizes[0].body);
    } else if (status === 'aborted') {
      expect(ok(aborts)).toHaveLength(10);
      expect(ok(finalizes)).toHaveLength(0);
      expect(charged).toBe(2);
      for (const r of aborts) expect(r.body).toEqual(aborts[0].body);
    } else {
      expect(status).toBe('expired');
      expect(ok(responses)).toHaveLength(0);
      expect(charged).toBe(3);
    }
    // The expiry call returns how many it settled (it may also pick up other due sessions).
    expect(typeof expiredCount).toBe('number');
    const records = await f.usageRecordsOf(s.sessionId);
    expect(records).toHaveLength(1);
    expect(records[0].credits).toBe(charged);
    expect(await f.available(u.id)).toBe(50 - charged);
    const kinds = (await f.ledger(u.id)).map((l) => l.kind);
    expect(kinds.filter((k) => k === 'hold')).toHaveLength(1);
    expect(kinds.filter((k) => k === 'release').length + kinds.filter((k) => k === 'debit').length).toBeLessThanOrEqual(
      1,
    );
  });

  it('parallel sessions of one user settle independently and keep the books straight', async () => {
    const u = await f.newUser({
      credits: [
        { credits: 30, expiryDays: 3 },
        { credits: 30, expiryDays: 90 },
      ],
    });
    const created = await Promise.all(Array.from({ length: 8 }, () => init(u.jwt, { estimatedTokens: 1000 })));
    expect(created.every((r) => r.status === 201)).toBe(true);
    const settled = await Promise.all(
      created.map((r, i) =>
        i % 2 === 0
          ? t.http
              .post('/api/streaming-sessions/finalize')
              .set(bearer(u.jwt))
              .send({ sessionId: r.body.sessionId, actualTokens: 500 * i })
          : t.http
              .post('/api/streaming-sessions/abort')
              .set(bearer(u.jwt))
              .send({ sessionId: r.body.sessionId, tokensGenerated: 100 * i }),
      ),
    );
    expect(settled.map((r) => r.status)).toEqual(Array(8).fill(200));
    // finalize i=0,2,4,6 → ceil(1.5 i) = 0,3,6,9 ; abort i=1,3,5,7 → ceil(0.3 i) = 1,1,2,3
    expect(await f.available(u.id)).toBe(60 - (0 + 3 + 6 + 9) - (1 + 1 + 2 + 3));
  });
});

describe('abandoned sessions expire (STREAMING_SESSION_TTL_SECONDS=1)', () => {
  let t: TestApp;
  const users: string[] = [];
  let f: Fixtures;

  beforeAll(async () => {
    t = await startTestApp({ STREAMING_SESSION_TTL_SECONDS: '1' });
    f = new Fixtures(t, { users });
  });
  afterAll(() => t.close());
  afterEach(async () => {
    await expectInvariants(t, users);
  });

  it('the job charges the estimate, releases the rest and records chat-streaming-expired; later settles → 409', async () => {
    const u = await f.newUser({ credits: 50 });
    const sessionId = `abandoned-${randomUUID()}`;
    const res = await t.http
      .post('/api/streaming-sessions/initialize')
      .set(bearer(u.jwt))
      .send({ sessionId, modelId: SONNET, estimatedTokens: 1000 })
      .expect(201);
    expect(new Date(res.body.expiresAt).getTime() - new Date(res.body.startedAt).getTime()).toBe(1000);
    const service = t.app.get(SessionExpiryJob);

    // Not due yet: the job leaves it alone.
    await service.expireAbandoned();
    expect(
      (await t.db.query(`SELECT status FROM streaming_sessions WHERE session_id = $1`, [sessionId])).rows[0].status,
    ).toBe('active');

    await expireSessionNow(t.db, sessionId);
    // Two instances running the job at once still settle it once.
    await Promise.all([service.expireAbandoned(), service.expireAbandoned()]);
    const { rows } = await t.db.query(
      `SELECT status, actual_credits, refund, shortfall, settled_at FROM streaming_sessions WHERE session_id = $1`,
      [sessionId],
    );
    expect(rows[0]).toMatchObject({ status: 'expired', actual_credits: 3, refund: 1, shortfall: 0 });
    expect(await f.available(u.id)).toBe(47);
    const records = await f.usageRecordsOf(sessionId);
    expect(records).toEqual([
      expect.objectContaining({
        service: 'chat-streaming-expired',
        operation: SONNET,
        credits: 3,
        billing_status: 'billed',
      }),
    ]);
    expect(records[0].metadata).toMatchObject({ sessionId, estimatedCredits: 3, actualCredits: 3 });
    expect(records[0].metadata.durationSeconds).toBeGreaterThanOrEqual(1);

    const fin = await t.http
      .post('/api/streaming-sessions/finalize')
      .set(bearer(u.jwt))
      .send({ sessionId, actualTokens: 10 })
      .expect(409);
    expect(fin.body.code).toBe('ALREADY_SETTLED');
    await t.http.post('/api/streaming-sessions/abort').set(bearer(u.jwt)).send({ sessionId }).expect(409);
    const active = await t.http.get('/api/streaming-sessions/active').set(bearer(u.jwt)).expect(200);
    expect(active.body.items).toEqual([]);
  });
});
