import { randomUUID } from 'node:crypto';

import type { Response } from 'supertest';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { SessionExpiryJob } from '../src/streaming-sessions/session-expiry.job.js';
import { bearer, startTestApp, type TestApp } from './support/app.js';
import { expireSessionNow } from './support/clock.js';
import { Fixtures, type FixtureUser, tokenFor } from './support/fixtures.js';
import { expectInvariants } from './support/invariants.js';
import { type OwnDatabase, ownDatabase } from './support/own-database.js';
import { recordStatements } from './support/statements.js';

/**
 * Initialize, finalize and abort are ONE statement each (one round trip), like record:
 * self-committing, or inside the request's Idempotency-Key transaction. The statements are counted
 * as node-postgres sends them.
 *
 * The seeded sonnet rule prices 3 credits per 1k tokens: 3000 estimated tokens → estimate 9, hold 11.
 */
const SONNET = 'anthropic.claude-3-sonnet-20240229-v1:0';
const admin = bearer(tokenFor('admin', 'one-statement-admin'));
/** 2 credits a token: 1,073,741,824 tokens price at 2^31 credits, one beyond the credit range. */
const DEAR = `one-statement-dear-${randomUUID().slice(0, 8)}`;

describe('streaming sessions in one statement', () => {
  let t: TestApp;
  let own: OwnDatabase;
  const users: string[] = [];
  let f: Fixtures;

  beforeAll(async () => {
    // Nothing else may send statements while one is counted: no jobs, no pricing reload, and a
    // database of its own (a pricing change of another spec file, announced by NOTIFY, would make the
    // next request here reload the pricing cache).
    own = await ownDatabase('one_statement');
    const env = { DATABASE_URL: own.url, JOBS_ENABLED: 'false', PRICING_CACHE_TTL_MS: '3600000' };
    // The rule is made by an app of its own, closed before the counted one starts: the counted app
    // must not hear the rule's NOTIFY after it warmed its cache (it would reload inside a count).
    const setup = await startTestApp(env);
    await setup.http.post('/api/pricing').set(admin).send({ modelId: DEAR, pricePer1kTokens: '2000' }).expect(201);
    await setup.close();
    t = await startTestApp(env);
    f = new Fixtures(t, { users });
    // Rules cached before anything is counted.
    await t.http.get(`/api/pricing/${SONNET}`).set(admin).expect(200);
  });
  afterAll(async () => {
    await t?.close();
    await own?.drop();
  });
  afterEach(() => expectInvariants(t, users));

  const post = (u: FixtureUser, route: string, body: Record<string, unknown>, key?: string) => {
    const req = t.http.post(`/api/streaming-sessions/${route}`).set(u.auth);
    if (key) req.set('Idempotency-Key', key);
    return req.send(body);
  };
  const init = (u: FixtureUser, body: Record<string, unknown>, key?: string) =>
    post(u, 'initialize', { modelId: SONNET, ...body }, key);

  /** The statements one request sent, and its answer. */
  async function sent(request: () => PromiseLike<Response>) {
    const { result, statements } = await recordStatements(request);
    return { res: result, statements };
  }
  const alone = (statement: RegExp) => [expect.stringMatching(statement)];
  // The statement of initializations that arrive together (a lone one a batch of one), or, in a
  // request's transaction, the statement of one.
  const HOLD = /^WITH (?:input|asked) AS .*credits_hold\(.*INSERT INTO streaming_sessions/;
  // The statement of one settlement (abort, expiry, a request's transaction), and the statement of
  // finalizes that arrive together (a lone one a batch of one).
  const SETTLE =
    /^WITH settling AS .*FOR UPDATE OF ss.*credits_settle\(.*INSERT INTO usage_records.*UPDATE streaming_sessions/;
  const SETTLE_MANY =
    /^WITH input AS .*settling AS .*FOR UPDATE OF ss.*credits_settle_many\(.*INSERT INTO usage_records.*UPDATE streaming_sessions/;

  describe('round trips', () => {
    it('initialize: one statement (hold and session row), also when refused', async () => {
      const u = await f.newUser({ credits: 20 });
      const sessionId = `chat-${randomUUID()}`;
      const held = await sent(() => init(u, { sessionId, estimatedTokens: 3000 }));
      expect(held.res.status, JSON.stringify(held.res.body)).toBe(201);
      expect(held.statements).toEqual(alone(HOLD));

      // Taken id → 409, short balance → 402: the same one statement, nothing written.
      const taken = await sent(() => init(u, { sessionId, estimatedTokens: 10 }));
      expect(taken.res.status).toBe(409);
      expect(taken.statements).toEqual(alone(HOLD));
      const short = await sent(() => init(u, { estimatedTokens: 3000 }));
      expect(short.res.status).toBe(402);
      expect(short.statements).toEqual(alone(HOLD));

      // An estimate of 0 holds nothing, through the same statement: its hold row ties the session to
      // the key it counts against, and a used-up budget or window refuses it.
      const free = await sent(() => init(u, { estimatedTokens: 0 }));
      expect(free.res.status).toBe(201);
      expect(free.statements).toEqual(alone(HOLD));
      expect(await f.available(u.id)).toBe(9);
    });

    it('finalize and abort: one statement, for an under-use, an overrun, a replay and every refusal', async () => {
      const u = await f.newUser({ credits: 36 });
      const a = (await init(u, { estimatedTokens: 3000 }).expect(201)).body;
      const b = (await init(u, { estimatedTokens: 3000 }).expect(201)).body;
      const c = (await init(u, { estimatedTokens: 3000 }).expect(201)).body;
      const dear = (await init(u, { modelId: DEAR, estimatedTokens: 1 }).expect(201)).body;

      const under = await sent(() => post(u, 'finalize', { sessionId: a.sessionId, actualTokens: 1000 }));
      expect(under.res.body).toMatchObject({ actualCredits: 3, refund: 8, shortfall: 0 });
      expect(under.statements).toEqual(alone(SETTLE_MANY));

      // 9000 tokens = 27 credits: 11 held, 8 left in the balance, 8 short.
      const over = await sent(() => post(u, 'finalize', { sessionId: b.sessionId, actualTokens: 9000 }));
      expect(over.res.body).toMatchObject({ actualCredits: 27, refund: 0, shortfall: 8 });
      expect(over.statements).toEqual(alone(SETTLE_MANY));

      const aborted = await sent(() => post(u, 'abort', { sessionId: c.sessionId }));
      expect(aborted.res.body).toEqual({
        sessionId: c.sessionId,
        userId: u.id,
        status: 'aborted',
        partialCredits: 0,
        refund: 11,
        shortfall: 0,
      });
      expect(aborted.statements).toEqual(alone(SETTLE));

      const replay = await sent(() => post(u, 'finalize', { sessionId: a.sessionId, actualTokens: 1000 }));
      expect(replay.res.status).toBe(200);
      expect(replay.res.body).toEqual(under.res.body);
      expect(JSON.stringify(replay.res.body)).toBe(JSON.stringify(under.res.body));
      expect(replay.statements).toEqual(alone(SETTLE_MANY));

      const refusals = [
        post(u, 'abort', { sessionId: a.sessionId }), // already settled otherwise → 409
        post(u, 'finalize', { sessionId: 'no-such-session', actualTokens: 1 }), // → 404
        post(u, 'finalize', { sessionId: dear.sessionId, actualTokens: 1_073_741_824 }), // beyond the range → 400
      ];
      for (const [i, request] of refusals.entries()) {
        const refused = await sent(() => request);
        expect(refused.res.status).toBe([409, 404, 400][i]);
        expect(refused.statements).toEqual(alone(i === 0 ? SETTLE : SETTLE_MANY));
      }
      // 36 less a's 3, b's 11 held and 8 collected, and the dear session's hold of 3.
      expect(await f.available(u.id)).toBe(11);
    });

    it('with an Idempotency-Key, the route adds one statement to the key’s transaction', async () => {
      const u = await f.newUser({ credits: 20 });
      const ours = (statements: string[]) =>
        statements.filter(
          (s) => !/^(START TRANSACTION|COMMIT)$|pg_try_advisory_xact_lock|idempotency_keys|"IdempotencyKey"/.test(s),
        );
      const held = await sent(() => init(u, { estimatedTokens: 3000 }, randomUUID()));
      expect(held.res.status).toBe(201);
      expect(ours(held.statements)).toEqual([expect.stringMatching(HOLD)]);
      const settled = await sent(() =>
        post(u, 'finalize', { sessionId: held.res.body.sessionId, actualTokens: 2000 }, randomUUID()),
      );
      expect(settled.res.status).toBe(200);
      expect(ours(settled.statements)).toEqual([expect.stringMatching(SETTLE)]);
    });

    it('the expiry job settles each session with the same statement, in its own transaction', async () => {
      const u = await f.newUser({ credits: 20 });
      const s = (await init(u, { estimatedTokens: 3000 }).expect(201)).body;
      await expireSessionNow(t.db, s.sessionId);
      const { result: expired, statements } = await recordStatements(() =>
        t.app.get(SessionExpiryJob).expireAbandoned(),
      );
      expect(expired).toBeGreaterThanOrEqual(1);
      // The due sessions are read first (other spec files' sessions among them, perhaps), then each is
      // settled: BEGIN, the settlement, session.expired when it settled it, COMMIT.
      const [due, ...settlements] = statements;
      expect(due).toMatch(
        /^SELECT session_id, user_id, model_id, estimated_tokens, estimated_input_tokens, estimated_output_tokens, estimated_cache_read_tokens, estimated_cache_write_tokens, estimated_reasoning_tokens, started_at, service_tier,\s+estimated_units, record_extras FROM streaming_sessions/,
      );
      const transactions = settlements.join('\n').split('\nSTART TRANSACTION');
      for (const group of transactions) {
        expect(group.replace(/^START TRANSACTION\n/, '').split('\n')).toEqual(
          expect.arrayContaining([
            expect.stringMatching(/^WITH settling AS .*SKIP LOCKED.*credits_settle\(/),
            'COMMIT',
          ]),
        );
        expect(group.split('\n').length).toBeLessThanOrEqual(4);
      }
      const { rows } = await t.db.query(`SELECT status FROM streaming_sessions WHERE session_id = $1`, [s.sessionId]);
      expect(rows[0].status).toBe('expired');
      expect(await f.available(u.id)).toBe(11);
    });
  });

  it('one user’s parallel initializes, finalizes, aborts, replays and the expiry job keep the books', async () => {
    const u = await f.newUser({
      credits: [
        { credits: 40, expiryDays: 5 },
        { credits: 40, expiryDays: 60 },
      ],
    });
    await t.http.put(`/api/credits/limits/${u.id}`).set(admin).send({ overdraftLimit: 10 }).expect(200);

    // 80 credits hold at most 7 sessions of 11. Two requests share one id: at most one holds.
    const ids = Array.from({ length: 12 }, (_, i) => `par-${u.id}-${i}`);
    const started = await Promise.all(
      [...ids, ids[0]].map((sessionId) => init(u, { sessionId, estimatedTokens: 3000 })),
    );
    for (const r of started) expect([201, 402, 409]).toContain(r.status);
    const active = started.filter((r) => r.status === 201).map((r) => r.body.sessionId as string);
    expect(active).toHaveLength(7);
    expect(new Set(active).size).toBe(7);
    expect(await f.available(u.id)).toBe(80 - 7 * 11);

    // Every session settled at once, in several ways, twice each (the same request, or another one),
    // and the expiry job for the last one.
    await expireSessionNow(t.db, active[6]);
    const tokens = [0, 1000, 3000, 4000, 9000, 20000, 500];
    const settle = (i: number) =>
      i % 3 === 2
        ? post(u, 'abort', { sessionId: active[i], tokensGenerated: tokens[i] })
        : post(u, 'finalize', { sessionId: active[i], actualTokens: tokens[i] });
    const requests = active.flatMap((_, i) => [
      settle(i),
      i % 2 === 0 ? settle(i) : post(u, 'abort', { sessionId: active[i], tokensGenerated: 1 }),
    ]);
    const [, ...answers] = await Promise.all([t.app.get(SessionExpiryJob).expireAbandoned(), ...requests]);
    for (const r of answers) expect([200, 409], JSON.stringify(r.body)).toContain(r.status);

    const { rows: sessions } = await t.db.query(
      `SELECT session_id, status, estimated_credits, allocated_credits, actual_credits, refund, shortfall
         FROM streaming_sessions WHERE user_id = $1 ORDER BY session_id`,
      [u.id],
    );
    expect(sessions).toHaveLength(7);
    for (const s of sessions) {
      expect(s.status).not.toBe('active');
      expect(await f.usageRecordsOf(s.session_id)).toHaveLength(1);
      // Whatever answered 200 answered the one stored settlement.
      const stored = {
        sessionId: s.session_id,
        userId: u.id,
        status: s.status,
        ...(s.status === 'aborted'
          ? { partialCredits: s.actual_credits }
          : {
              estimatedCredits: s.estimated_credits,
              allocatedCredits: s.allocated_credits,
              actualCredits: s.actual_credits,
            }),
        refund: s.refund,
        shortfall: s.shortfall,
      };
      const i = active.indexOf(s.session_id);
      for (const r of answers.slice(2 * i, 2 * i + 2).filter((r) => r.status === 200))
        expect(JSON.stringify(r.body)).toBe(JSON.stringify(stored));
    }
    // Identical requests never conflict with each other.
    for (let i = 0; i < 7; i += 2) {
      const [first, second] = answers.slice(2 * i, 2 * i + 2);
      expect(first.status).toBe(second.status);
    }

    // What left the allocations is what the records collected less what the overdraft lent.
    const { rows } = await t.db.query(
      `SELECT (SELECT COALESCE(SUM(credits), 0)::int FROM usage_records WHERE user_id = $1) AS collected,
              (SELECT COALESCE(SUM(shortfall), 0)::int FROM usage_records WHERE user_id = $1) AS short,
              (SELECT COALESCE(debt, 0) FROM credit_accounts WHERE account_id = (SELECT account_id FROM accounts WHERE user_id = $1)) AS debt`,
      [u.id],
    );
    const [{ collected, short, debt }] = rows;
    expect(80 - (await f.available(u.id))).toBe(collected - debt);
    expect(collected + short).toBe(sessions.reduce((sum, s) => sum + s.actual_credits, 0));
    expect(debt).toBeLessThanOrEqual(10);
    const balance = await t.http.get('/api/credits/balance').set(u.auth).expect(200);
    expect(balance.body.heldCredits).toBe(0);
  });
});
