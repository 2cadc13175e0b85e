import { randomUUID } from 'node:crypto';

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { bearer, startTestApp, type TestApp, token, uniqueId } from './support/app.js';
import { Fixtures, tokenFor } from './support/fixtures.js';
import { expectInvariants } from './support/invariants.js';

const adminJwt = tokenFor('admin', 'streaming-admin');

/**
 * Streaming sessions: hold → settle arithmetic, refunds to the source allocations, retries, access.
 * Prices: a model of this file at 10 credits per 1k input tokens and 30 per 1k output tokens, so
 * 1000 estimated tokens → estimate 10, hold 12.
 */
describe('streaming sessions', () => {
  let t: TestApp;
  const users: string[] = [];
  let f: Fixtures;
  const model = `stream-test-${randomUUID().slice(0, 8)}`;

  const init = (jwt: string, body: Record<string, unknown>) =>
    t.http
      .post('/api/streaming-sessions/initialize')
      .set(bearer(jwt))
      .send({ modelId: model, ...body });
  const finalize = (jwt: string, body: Record<string, unknown>) =>
    t.http.post('/api/streaming-sessions/finalize').set(bearer(jwt)).send(body);
  const abort = (jwt: string, body: Record<string, unknown>) =>
    t.http.post('/api/streaming-sessions/abort').set(bearer(jwt)).send(body);

  beforeAll(async () => {
    t = await startTestApp();
    f = new Fixtures(t, { users });
    const rule = await t.http
      .post('/api/pricing')
      .set(bearer(adminJwt))
      .send({ modelId: model, pricePer1kTokens: '10', outputPricePer1kTokens: '30' });
    expect(rule.status, JSON.stringify(rule.body)).toBe(201);
  });
  afterAll(() => t.close());
  afterEach(async () => {
    await expectInvariants(t, users);
  });

  describe('initialize', () => {
    it('prices the estimate, holds ceil(estimate × 6/5) and reports the session', async () => {
      const u = await f.newUser({ credits: 100 });
      const sessionId = `chat-${randomUUID()}`;
      const res = await init(u.jwt, { sessionId, estimatedTokens: 1000 }).expect(201);
      expect(res.body).toMatchObject({
        sessionId,
        userId: u.id,
        modelId: model,
        estimatedCredits: 10,
        allocatedCredits: 12,
        usedCredits: 0,
        status: 'active',
      });
      const ttl = new Date(res.body.expiresAt).getTime() - new Date(res.body.startedAt).getTime();
      expect(ttl).toBe(3600 * 1000);
      expect(await f.available(u.id)).toBe(88);
      const balance = await t.http.get('/api/credits/balance').set(bearer(u.jwt)).expect(200);
      expect(balance.body).toMatchObject({ totalCredits: 88, heldCredits: 12 });
      const holds = (await f.ledger(u.id)).filter((l) => l.kind === 'hold');
      expect(holds).toEqual([expect.objectContaining({ amount: -12, session_id: sessionId, usage_record_id: null })]);
    });

    it('generates a UUID when no sessionId is given', async () => {
      const u = await f.newUser({ credits: 20 });
      const res = await init(u.jwt, { estimatedTokens: 100 }).expect(201);
      expect(res.body.sessionId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      expect(res.body).toMatchObject({ estimatedCredits: 1, allocatedCredits: 2 });
    });

    it('answers 402 and writes nothing when the hold does not fit', async () => {
      const u = await f.newUser({ credits: 11 });
      const sessionId = `chat-${randomUUID()}`;
      const res = await init(u.jwt, { sessionId, estimatedTokens: 1000 }).expect(402);
      expect(res.body).toMatchObject({ statusCode: 402, requiredCredits: 12, availableCredits: 11 });
      const { rows } = await t.db.query(
        `SELECT 1 FROM streaming_sessions WHERE session_id = $1 UNION ALL SELECT 1 FROM credit_holds WHERE session_id = $1`,
        [sessionId],
      );
      expect(rows).toEqual([]);
      expect((await f.ledger(u.id)).map((l) => l.kind)).toEqual(['grant']);
      expect(await f.available(u.id)).toBe(11);
    });

    it('answers 409 for a sessionId the user already used, moving nothing; another user may use the id', async () => {
      const a = await f.newUser({ credits: 50 });
      const b = await f.newUser({ credits: 50 });
      const sessionId = `chat-${randomUUID()}`;
      await init(a.jwt, { sessionId, estimatedTokens: 1000 }).expect(201);
      await init(a.jwt, { sessionId, estimatedTokens: 1000 }).expect(409);
      expect(await f.available(a.id)).toBe(38);
      // Session ids belong to their user (docs/trust-model.md): b's session of the same id is b's own.
      const other = await init(b.jwt, { sessionId, estimatedTokens: 1000 }).expect(201);
      expect(other.body).toMatchObject({ sessionId, userId: b.id, allocatedCredits: 12 });
      expect(await f.available(b.id)).toBe(38);
      await finalize(b.jwt, { sessionId, actualTokens: 0 }).expect(200);
      expect(await f.available(b.id)).toBe(50);
      expect(await f.available(a.id)).toBe(38);
    });

    it('validates the body', async () => {
      const u = await f.newUser({ credits: 10 });
      await init(u.jwt, {}).expect(400);
      await init(u.jwt, { estimatedTokens: -1 }).expect(400);
      await init(u.jwt, { estimatedTokens: 1.5 }).expect(400);
      await init(u.jwt, { estimatedTokens: 10, inputTokens: 5, outputTokens: 5 }).expect(400);
      await init(u.jwt, { estimatedTokens: 10, sessionId: 'x'.repeat(101) }).expect(400);
      await init(u.jwt, { estimatedTokens: 10, extra: 1 }).expect(400);
      expect(await f.available(u.id)).toBe(10);
    });

    it('prices an input/output split (input at pricePer1kTokens, output at outputPricePer1kTokens)', async () => {
      const u = await f.newUser({ credits: 100 });
      // ceil((500 × 10 + 500 × 30) / 1000) = 20 → hold 24
      const res = await init(u.jwt, { inputTokens: 500, outputTokens: 500 }).expect(201);
      expect(res.body).toMatchObject({ estimatedCredits: 20, allocatedCredits: 24 });
      // ceil((300 × 10 + 201 × 30) / 1000) = ceil(9.03) = 10
      const fin = await finalize(u.jwt, { sessionId: res.body.sessionId, inputTokens: 300, outputTokens: 201 }).expect(
        200,
      );
      expect(fin.body).toEqual({
        sessionId: res.body.sessionId,
        userId: u.id,
        status: 'completed',
        estimatedCredits: 20,
        allocatedCredits: 24,
        actualCredits: 10,
        refund: 14,
        shortfall: 0,
      });
      const [record] = await f.usageRecordsOf(res.body.sessionId);
      expect(record).toMatchObject({ service: 'chat-streaming', credits: 10, tokens: 501 });
      expect(record.metadata).toMatchObject({ tokens: 501, inputTokens: 300, outputTokens: 201, actualCredits: 10 });
      expect(await f.available(u.id)).toBe(90);
    });
  });

  describe('settlement', () => {
    /** A user with `credits` opens a session of 1000 estimated tokens (estimate 10, hold 12) and finalizes it. */
    async function finalized(credits: number, actualTokens: number) {
      const u = await f.newUser({ credits });
      const { body: s } = await init(u.jwt, { estimatedTokens: 1000 }).expect(201);
      const res = await finalize(u.jwt, { sessionId: s.sessionId, actualTokens }).expect(200);
      return { u, s, res };
    }
    /** finalize's answer for such a session. */
    const completed = (
      sessionId: string,
      userId: string,
      amounts: { actualCredits: number; refund: number; shortfall: number },
    ) => ({
      sessionId,
      userId,
      status: 'completed',
      estimatedCredits: 10,
      allocatedCredits: 12,
      ...amounts,
    });

    it('under-use: charges the real amount and refunds the rest of the hold', async () => {
      const { u, s, res } = await finalized(100, 450);
      expect(res.body).toEqual(completed(s.sessionId, u.id, { actualCredits: 5, refund: 7, shortfall: 0 }));
      expect(await f.available(u.id)).toBe(95);
      const records = await f.usageRecordsOf(s.sessionId);
      expect(records).toHaveLength(1);
      expect(records[0]).toMatchObject({
        user_id: u.id,
        service: 'chat-streaming',
        operation: model,
        model_id: model,
        credits: 5,
        tokens: 450,
        billing_status: 'billed',
      });
      expect(records[0].pricing_rule_id).not.toBeNull();
      expect(records[0].metadata).toMatchObject({
        sessionId: s.sessionId,
        tokens: 450,
        estimatedCredits: 10,
        actualCredits: 5,
        shortfall: 0,
      });
      expect(typeof records[0].metadata.durationSeconds).toBe('number');
      const { rows } = await t.db.query(
        `SELECT status, actual_credits, refund, shortfall, usage_record_id FROM streaming_sessions WHERE session_id = $1`,
        [s.sessionId],
      );
      expect(rows[0]).toEqual({
        status: 'completed',
        actual_credits: 5,
        refund: 7,
        shortfall: 0,
        usage_record_id: records[0].id,
      });
      const active = await t.http.get('/api/streaming-sessions/active').set(bearer(u.jwt)).expect(200);
      expect(active.body.items).toEqual([]);
      const balance = await t.http.get('/api/credits/balance').set(bearer(u.jwt)).expect(200);
      expect(balance.body).toMatchObject({ totalCredits: 95, heldCredits: 0 });
    });

    it('exact use: the whole hold is charged, nothing refunded', async () => {
      const { u, s, res } = await finalized(100, 1200);
      expect(res.body).toMatchObject({ actualCredits: 12, refund: 0, shortfall: 0 });
      expect(await f.available(u.id)).toBe(88);
      expect((await f.ledger(u.id)).map((l) => l.kind)).toEqual(['grant', 'hold']);
      expect(await f.usageRecordsOf(s.sessionId)).toEqual([
        expect.objectContaining({ credits: 12, billing_status: 'billed' }),
      ]);
    });

    it('overrun: the difference beyond the hold is debited from the balance, linked to the usage record', async () => {
      const { u, s, res } = await finalized(100, 2000);
      expect(res.body).toMatchObject({
        status: 'completed',
        allocatedCredits: 12,
        actualCredits: 20,
        refund: 0,
        shortfall: 0,
      });
      expect(await f.available(u.id)).toBe(80);
      const [record] = await f.usageRecordsOf(s.sessionId);
      expect(record).toMatchObject({ credits: 20, billing_status: 'billed' });
      const debits = (await f.ledger(u.id)).filter((l) => l.kind === 'debit');
      expect(debits).toEqual([
        expect.objectContaining({ amount: -8, session_id: s.sessionId, usage_record_id: record.id }),
      ]);
    });

    it('overrun beyond the balance: takes what is there, records the shortfall, needs_review', async () => {
      const { u, s, res } = await finalized(15, 3000);
      expect(res.body).toEqual(completed(s.sessionId, u.id, { actualCredits: 30, refund: 0, shortfall: 15 }));
      expect(await f.available(u.id)).toBe(0);
      const [record] = await f.usageRecordsOf(s.sessionId);
      expect(record).toMatchObject({ credits: 15, billing_status: 'needs_review' });
      expect(record.metadata).toMatchObject({ actualCredits: 30, shortfall: 15 });
      const { rows } = await t.db.query(
        `SELECT actual_credits, shortfall FROM streaming_sessions WHERE session_id = $1`,
        [s.sessionId],
      );
      expect(rows[0]).toEqual({ actual_credits: 30, shortfall: 15 });
    });

    it('abort with partial tokens charges them and refunds the rest; tokensGenerated defaults to 0', async () => {
      const u = await f.newUser({ credits: 100 });
      const { body: s1 } = await init(u.jwt, { estimatedTokens: 1000 }).expect(201);
      const { body: s2 } = await init(u.jwt, { estimatedTokens: 1000 }).expect(201);
      const a1 = await abort(u.jwt, { sessionId: s1.sessionId, tokensGenerated: 250 }).expect(200);
      expect(a1.body).toEqual({
        sessionId: s1.sessionId,
        userId: u.id,
        status: 'aborted',
        partialCredits: 3,
        refund: 9,
        shortfall: 0,
      });
      const a2 = await abort(u.jwt, { sessionId: s2.sessionId }).expect(200);
      expect(a2.body).toEqual({
        sessionId: s2.sessionId,
        userId: u.id,
        status: 'aborted',
        partialCredits: 0,
        refund: 12,
        shortfall: 0,
      });
      expect(await f.available(u.id)).toBe(97);
      expect(await f.usageRecordsOf(s1.sessionId)).toEqual([
        expect.objectContaining({ service: 'chat-streaming-aborted', credits: 3, tokens: 250 }),
      ]);
      expect(await f.usageRecordsOf(s2.sessionId)).toEqual([
        expect.objectContaining({ service: 'chat-streaming-aborted', credits: 0, tokens: 0 }),
      ]);
    });

    it('success=false settles as failed (chat-streaming-failed), still charging the tokens used', async () => {
      const u = await f.newUser({ credits: 100 });
      const { body: s } = await init(u.jwt, { estimatedTokens: 1000 }).expect(201);
      const res = await finalize(u.jwt, { sessionId: s.sessionId, actualTokens: 100, success: false }).expect(200);
      expect(res.body).toMatchObject({ status: 'failed', actualCredits: 1, refund: 11, shortfall: 0 });
      expect(await f.usageRecordsOf(s.sessionId)).toEqual([
        expect.objectContaining({ service: 'chat-streaming-failed', credits: 1 }),
      ]);
      const { rows } = await t.db.query(`SELECT status FROM streaming_sessions WHERE session_id = $1`, [s.sessionId]);
      expect(rows[0].status).toBe('failed');
    });

    it('charges at the price in effect when the session started, even after a price change', async () => {
      const u = await f.newUser({ credits: 100 });
      const ownModel = `stream-price-${randomUUID().slice(0, 8)}`;
      await t.http
        .post('/api/pricing')
        .set(bearer(adminJwt))
        .send({ modelId: ownModel, pricePer1kTokens: '10' })
        .expect(201);
      const { body: s } = await t.http
        .post('/api/streaming-sessions/initialize')
        .set(bearer(u.jwt))
        .send({ modelId: ownModel, estimatedTokens: 1000 })
        .expect(201);
      // As if the session had started a minute ago: the new price below starts after it, by the rows.
      await t.db.query(
        `UPDATE streaming_sessions SET started_at = started_at - interval '1 minute', expires_at = expires_at - interval '1 minute'
          WHERE session_id = $1`,
        [s.sessionId],
      );
      await t.http
        .post('/api/pricing')
        .set(bearer(adminJwt))
        .send({ modelId: ownModel, pricePer1kTokens: '100' })
        .expect(201);
      const res = await finalize(u.jwt, { sessionId: s.sessionId, actualTokens: 1000 }).expect(200);
      expect(res.body).toMatchObject({ actualCredits: 10, refund: 2 });
    });
  });

  describe('refunds go back to the allocations they were held from', () => {
    it('a hold spread over two allocations is given back to both, latest expiry first, keeping their expiry', async () => {
      const u = await f.newUser({
        credits: [
          { credits: 10, expiryDays: 2 },
          { credits: 100, expiryDays: 60 },
        ],
      });
      const [soon, late] = u.allocationIds;
      const before = await t.db.query(
        `SELECT id, expires_at FROM credit_allocations WHERE account_id = (SELECT account_id FROM accounts WHERE user_id = $1) ORDER BY expires_at`,
        [u.id],
      );
      const { body: s } = await init(u.jwt, { estimatedTokens: 1000 }).expect(201);
      // The hold takes the soonest-expiring credits first: 10 from `soon`, 2 from `late`.
      const holds = (await f.ledger(u.id)).filter((l) => l.kind === 'hold');
      expect(holds.map((l) => [l.allocation_id, l.amount])).toEqual([
        [soon, -10],
        [late, -2],
      ]);
      await finalize(u.jwt, { sessionId: s.sessionId, actualTokens: 500 }).expect(200);
      // 5 charged, 7 refunded: the 2 from `late` and 5 of `soon`, so what stays charged expires soonest.
      const releases = (await f.ledger(u.id)).filter((l) => l.kind === 'release');
      expect(releases.map((l) => [l.allocation_id, l.amount, l.session_id])).toEqual([
        [late, 2, s.sessionId],
        [soon, 5, s.sessionId],
      ]);
      const after = await t.db.query(
        `SELECT id, expires_at, remaining_credits FROM credit_allocations WHERE account_id = (SELECT account_id FROM accounts WHERE user_id = $1) ORDER BY expires_at`,
        [u.id],
      );
      expect(after.rows).toEqual([
        { id: soon, expires_at: before.rows[0].expires_at, remaining_credits: 5 },
        { id: late, expires_at: before.rows[1].expires_at, remaining_credits: 100 },
      ]);
    });

    it('opening and aborting sessions never turns soon-expiring credits into new allocations', async () => {
      const u = await f.newUser({ credits: [{ credits: 30, expiryDays: 1 }] });
      for (let i = 0; i < 3; i++) {
        const { body: s } = await init(u.jwt, { estimatedTokens: 2000 }).expect(201);
        await abort(u.jwt, { sessionId: s.sessionId }).expect(200);
      }
      const { rows } = await t.db.query(
        `SELECT id, remaining_credits FROM credit_allocations WHERE account_id = (SELECT account_id FROM accounts WHERE user_id = $1)`,
        [u.id],
      );
      expect(rows).toEqual([{ id: u.allocationIds[0], remaining_credits: 30 }]);
    });
  });

  describe('retries', () => {
    it('finalize again with the same amount answers the same settlement and moves nothing', async () => {
      const u = await f.newUser({ credits: 100 });
      const { body: s } = await init(u.jwt, { estimatedTokens: 1000 }).expect(201);
      const first = await finalize(u.jwt, { sessionId: s.sessionId, actualTokens: 700 }).expect(200);
      const ledger = await f.ledger(u.id);
      const again = await finalize(u.jwt, { sessionId: s.sessionId, actualTokens: 700 }).expect(200);
      expect(again.body).toEqual(first.body);
      const explicit = await finalize(u.jwt, { sessionId: s.sessionId, actualTokens: 700, success: true }).expect(200);
      expect(explicit.body).toEqual(first.body);
      expect(await f.ledger(u.id)).toEqual(ledger);
      expect(await f.usageRecordsOf(s.sessionId)).toHaveLength(1);
      expect(await f.available(u.id)).toBe(93);
    });

    it('a different amount, another outcome, or abort after finalize → 409; finalize after abort → 409', async () => {
      const u = await f.newUser({ credits: 100 });
      const { body: s } = await init(u.jwt, { estimatedTokens: 1000 }).expect(201);
      await finalize(u.jwt, { sessionId: s.sessionId, actualTokens: 700 }).expect(200);
      const diff = await finalize(u.jwt, { sessionId: s.sessionId, actualTokens: 701 }).expect(409);
      expect(diff.body).toMatchObject({ statusCode: 409, code: 'ALREADY_SETTLED' });
      await finalize(u.jwt, { sessionId: s.sessionId, actualTokens: 700, success: false }).expect(409);
      await finalize(u.jwt, { sessionId: s.sessionId, inputTokens: 700 }).expect(409);
      await abort(u.jwt, { sessionId: s.sessionId, tokensGenerated: 700 }).expect(409);

      const { body: s2 } = await init(u.jwt, { estimatedTokens: 1000 }).expect(201);
      const aborted = await abort(u.jwt, { sessionId: s2.sessionId, tokensGenerated: 100 }).expect(200);
      expect((await abort(u.jwt, { sessionId: s2.sessionId, tokensGenerated: 100 }).expect(200)).body).toEqual(
        aborted.body,
      );
      await abort(u.jwt, { sessionId: s2.sessionId, tokensGenerated: 101 }).expect(409);
      await finalize(u.jwt, { sessionId: s2.sessionId, actualTokens: 100 }).expect(409);
      expect(await f.available(u.id)).toBe(100 - 7 - 1);
    });

    it('an Idempotency-Key replays the first finalize', async () => {
      const u = await f.newUser({ credits: 100 });
      const { body: s } = await init(u.jwt, { estimatedTokens: 1000 }).expect(201);
      const key = randomUUID();
      const first = await finalize(u.jwt, { sessionId: s.sessionId, actualTokens: 300 })
        .set('Idempotency-Key', key)
        .expect(200);
      const replay = await finalize(u.jwt, { sessionId: s.sessionId, actualTokens: 300 })
        .set('Idempotency-Key', key)
        .expect(200);
      expect(replay.headers['idempotent-replayed']).toBe('true');
      expect(replay.body).toEqual(first.body);
      expect(await f.usageRecordsOf(s.sessionId)).toHaveLength(1);
    });
  });

  describe('access', () => {
    it('another user’s session or an unknown one → 404 on finalize and abort, and it stays untouched', async () => {
      const owner = await f.newUser({ credits: 100 });
      const other = await f.newUser({ credits: 100 });
      const { body: s } = await init(owner.jwt, { estimatedTokens: 1000 }).expect(201);
      await finalize(other.jwt, { sessionId: s.sessionId, actualTokens: 0 }).expect(404);
      await abort(other.jwt, { sessionId: s.sessionId }).expect(404);
      // Not even an admin settles someone else's session through these routes.
      await finalize(adminJwt, { sessionId: s.sessionId, actualTokens: 0 }).expect(404);
      await finalize(owner.jwt, { sessionId: `nope-${randomUUID()}`, actualTokens: 0 }).expect(404);
      await abort(owner.jwt, { sessionId: `nope-${randomUUID()}` }).expect(404);
      const { rows } = await t.db.query(`SELECT status FROM streaming_sessions WHERE session_id = $1`, [s.sessionId]);
      expect(rows[0].status).toBe('active');
      expect(await f.available(other.id)).toBe(100);
      expect(await f.available(owner.id)).toBe(88);
      await abort(owner.jwt, { sessionId: s.sessionId }).expect(200);
    });

    it('a NUL character in a session id and a forged list cursor are bad input (400), not a 500; nothing is held', async () => {
      const u = await f.newUser({ credits: 100 });
      await init(u.jwt, { sessionId: 'chat-\u0000', estimatedTokens: 1000 }).expect(400);
      await finalize(u.jwt, { sessionId: 'chat-\u0000', actualTokens: 0 }).expect(400);
      const forged = Buffer.from(JSON.stringify({ t: 'x', id: 'y' })).toString('base64url');
      await t.http.get('/api/streaming-sessions/active').query({ cursor: forged }).set(bearer(u.jwt)).expect(400);
      expect(await f.available(u.id)).toBe(100);
    });

    it('requires authentication on every route', async () => {
      await t.http.post('/api/streaming-sessions/initialize').send({ modelId: model, estimatedTokens: 1 }).expect(401);
      await t.http.post('/api/streaming-sessions/finalize').send({ sessionId: 'x', actualTokens: 1 }).expect(401);
      await t.http.post('/api/streaming-sessions/abort').send({ sessionId: 'x' }).expect(401);
      for (const path of [
        '/api/streaming-sessions/active',
        '/api/streaming-sessions/active/all',
        '/api/streaming-sessions/active/someone',
      ]) {
        await t.http.get(path).expect(401);
      }
    });

    it('API keys need sessions:write to settle and sessions:read to list', async () => {
      const u = await f.newUser({ credits: 100 });
      const keyWith = async (permissions: string[]) => ({
        'X-API-Key': (await f.apiKey(u, { name: `k-${permissions.join('-')}`, permissions })).key,
      });
      const writer = await keyWith(['sessions:write']);
      const reader = await keyWith(['sessions:read']);
      const other = await keyWith(['credits:read', 'usage:write']);
      const body = { modelId: model, estimatedTokens: 100 };
      await t.http.post('/api/streaming-sessions/initialize').set(reader).send(body).expect(403);
      await t.http.post('/api/streaming-sessions/initialize').set(other).send(body).expect(403);
      const { body: s } = await t.http.post('/api/streaming-sessions/initialize').set(writer).send(body).expect(201);
      expect(s.userId).toBe(u.id);
      await t.http.get('/api/streaming-sessions/active').set(writer).expect(403);
      const listed = await t.http.get('/api/streaming-sessions/active').set(reader).expect(200);
      expect(listed.body.items.map((i: { sessionId: string }) => i.sessionId)).toEqual([s.sessionId]);
      // Operator routes never accept API keys.
      await t.http.get('/api/streaming-sessions/active/all').set(reader).expect(403);
      await t.http.get(`/api/streaming-sessions/active/${u.id}`).set(reader).expect(403);
      await t.http.post('/api/streaming-sessions/abort').set(reader).send({ sessionId: s.sessionId }).expect(403);
      await t.http
        .post('/api/streaming-sessions/finalize')
        .set(writer)
        .send({ sessionId: s.sessionId, actualTokens: 50 })
        .expect(200);
    });

    it('GET /active lists only the caller’s active sessions', async () => {
      const a = await f.newUser({ credits: 100 });
      const b = await f.newUser({ credits: 100 });
      const { body: s1 } = await init(a.jwt, { estimatedTokens: 100 }).expect(201);
      const { body: s2 } = await init(a.jwt, { estimatedTokens: 200 }).expect(201);
      const { body: s3 } = await init(b.jwt, { estimatedTokens: 100 }).expect(201);
      await abort(a.jwt, { sessionId: s1.sessionId }).expect(200);
      const res = await t.http.get('/api/streaming-sessions/active').set(bearer(a.jwt)).expect(200);
      expect(res.body).toEqual({ items: [s2], nextCursor: null });
      await abort(a.jwt, { sessionId: s2.sessionId }).expect(200);
      await abort(b.jwt, { sessionId: s3.sessionId }).expect(200);
    });

    it('GET /active/all is admin only and reachable (not taken for a user id); /active/:userId is supervisor+', async () => {
      const a = await f.newUser({ credits: 100 });
      const b = await f.newUser({ credits: 100 });
      const { body: sa } = await init(a.jwt, { estimatedTokens: 100 }).expect(201);
      const { body: sb } = await init(b.jwt, { estimatedTokens: 100 }).expect(201);
      const supervisor = token({ sub: uniqueId('sup'), role: 'supervisor' });

      await t.http.get('/api/streaming-sessions/active/all').set(bearer(a.jwt)).expect(403);
      await t.http.get('/api/streaming-sessions/active/all').set(bearer(supervisor)).expect(403);
      const ids: string[] = [];
      let cursor: string | null = null;
      do {
        const page: { body: { items: { sessionId: string }[]; nextCursor: string | null } } = await t.http
          .get('/api/streaming-sessions/active/all')
          .query({ limit: 500, ...(cursor ? { cursor } : {}) })
          .set(bearer(adminJwt))
          .expect(200);
        ids.push(...page.body.items.map((i) => i.sessionId));
        cursor = page.body.nextCursor;
      } while (cursor);
      expect(ids).toEqual(expect.arrayContaining([sa.sessionId, sb.sessionId]));

      // b may not see a's account (404); a sees their own but the route needs supervisor (403).
      await t.http.get(`/api/streaming-sessions/active/${a.id}`).set(bearer(b.jwt)).expect(404);
      await t.http.get(`/api/streaming-sessions/active/${a.id}`).set(bearer(a.jwt)).expect(403);
      const bySupervisor = await t.http
        .get(`/api/streaming-sessions/active/${a.id}`)
        .set(bearer(supervisor))
        .expect(200);
      expect(bySupervisor.body).toEqual({ items: [sa], nextCursor: null });
      const byAdmin = await t.http.get(`/api/streaming-sessions/active/${b.id}`).set(bearer(adminJwt)).expect(200);
      expect(byAdmin.body.items).toEqual([sb]);
      await t.http
        .get(`/api/streaming-sessions/active/${uniqueId('ghost')}`)
        .set(bearer(supervisor))
        .expect(404);

      await abort(a.jwt, { sessionId: sa.sessionId }).expect(200);
      await abort(b.jwt, { sessionId: sb.sessionId }).expect(200);
    });

    it('pages active sessions with a cursor', async () => {
      const u = await f.newUser({ credits: 100 });
      const created: string[] = [];
      for (let i = 0; i < 3; i++)
        created.push((await init(u.jwt, { estimatedTokens: 100 }).expect(201)).body.sessionId);
      const p1 = await t.http.get('/api/streaming-sessions/active').query({ limit: 2 }).set(bearer(u.jwt)).expect(200);
      expect(p1.body.items).toHaveLength(2);
      expect(p1.body.nextCursor).toEqual(expect.any(String));
      const p2 = await t.http
        .get('/api/streaming-sessions/active')
        .query({ limit: 2, cursor: p1.body.nextCursor })
        .set(bearer(u.jwt))
        .expect(200);
      expect(p2.body.nextCursor).toBeNull();
      expect([...p1.body.items, ...p2.body.items].map((i: { sessionId: string }) => i.sessionId).sort()).toEqual(
        [...created].sort(),
      );
      for (const id of created) await abort(u.jwt, { sessionId: id }).expect(200);
    });

    it('pages sessions started in the same millisecond without repeating one', async () => {
      const u = await f.newUser({ credits: 100 });
      const created: string[] = [];
      for (let i = 0; i < 3; i++)
        created.push((await init(u.jwt, { estimatedTokens: 100 }).expect(201)).body.sessionId);
      // Same millisecond, different microseconds: a cursor rounded to milliseconds would repeat rows.
      for (const [i, id] of created.entries()) {
        await t.db.query(
          `UPDATE streaming_sessions SET started_at = date_trunc('milliseconds', started_at) + make_interval(secs => $2::float / 1e6) WHERE session_id = $1`,
          [id, (i + 1) * 100],
        );
      }
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const page: { body: { items: { sessionId: string }[]; nextCursor: string | null } } = await t.http
          .get('/api/streaming-sessions/active')
          .query({ limit: 1, ...(cursor ? { cursor } : {}) })
          .set(bearer(u.jwt))
          .expect(200);
        seen.push(...page.body.items.map((i) => i.sessionId));
        cursor = page.body.nextCursor;
      } while (cursor && seen.length < 10);
      expect(seen.sort()).toEqual([...created].sort());
      for (const id of created) await abort(u.jwt, { sessionId: id }).expect(200);
    });
  });

  it('documents every route in the OpenAPI document', async () => {
    const doc = (await t.http.get('/api/docs-json').expect(200)).body;
    const paths = doc.paths as Record<
      string,
      Record<string, { responses: Record<string, unknown>; security?: unknown[] }>
    >;
    expect(Object.keys(paths['/api/streaming-sessions/initialize'].post.responses)).toEqual(
      expect.arrayContaining(['201', '400', '401', '402', '403', '409']),
    );
    expect(Object.keys(paths['/api/streaming-sessions/finalize'].post.responses)).toEqual(
      expect.arrayContaining(['200', '404', '409']),
    );
    expect(Object.keys(paths['/api/streaming-sessions/abort'].post.responses)).toEqual(
      expect.arrayContaining(['200', '404', '409']),
    );
    for (const p of [
      '/api/streaming-sessions/active',
      '/api/streaming-sessions/active/all',
      '/api/streaming-sessions/active/{userId}',
    ]) {
      expect(paths[p].get.responses['200']).toBeDefined();
    }
    const schemas = doc.components.schemas;
    expect(schemas.InitializeSessionDto.properties.estimatedTokens.example).toBe(2000);
    expect(schemas.FinalizeResponseDto.properties.shortfall).toBeDefined();
  });
});
