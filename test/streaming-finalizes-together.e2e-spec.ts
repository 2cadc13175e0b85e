import { randomUUID } from 'node:crypto';

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { CreditsService } from '../src/engine/credits.service.js';
import { startTestApp, type TestApp } from './support/app.js';
import { Fixtures, type FixtureUser } from './support/fixtures.js';
import { expectInvariants } from './support/invariants.js';

/**
 * Finalizes that arrive together (docs/money.md "Finalizes that arrive together"): many sessions of
 * one account and of many accounts finalized at once share statements, and each answers exactly as
 * it would alone. The seeded sonnet rule prices 3 credits per 1k tokens: 1000 estimated tokens →
 * estimate 3, hold 4.
 */
const SONNET = 'anthropic.claude-3-sonnet-20240229-v1:0';
const HOLD = 4;

/** What a finalize of `tokens` answers alone, with the balance enough for any overrun. */
function expected(sessionId: string, userId: string, tokens: number) {
  const actual = Math.ceil((tokens * 3) / 1000);
  return {
    sessionId,
    userId,
    status: 'completed',
    estimatedCredits: 3,
    allocatedCredits: HOLD,
    actualCredits: actual,
    refund: Math.max(0, HOLD - actual),
    shortfall: 0,
  };
}

describe('finalizes that arrive together', () => {
  let t: TestApp;
  const users: string[] = [];
  let f: Fixtures;
  /** The number of finalizes in each statement of many sent. */
  const statements: number[] = [];

  beforeAll(async () => {
    t = await startTestApp();
    f = new Fixtures(t, { users });
    const settlements = t.app.get(CreditsService);
    const settleSessions = settlements.settleSessions.bind(settlements);
    settlements.settleSessions = (manager, statement) => {
      statements.push(statement.items.length);
      return settleSessions(manager, statement);
    };
  });
  afterAll(() => t.close());
  afterEach(async () => {
    await expectInvariants(t, users);
  });

  const post = (u: FixtureUser, route: string, body: Record<string, unknown>) =>
    t.http.post(`/api/streaming-sessions/${route}`).set(u.auth).send(body);
  const open = async (u: FixtureUser) =>
    (await post(u, 'initialize', { modelId: SONNET, estimatedTokens: 1000 }).expect(201)).body.sessionId as string;
  /** Tokens of the k-th finalize: under the hold, exactly it, and beyond it (an overrun taken from the balance). */
  const tokensOf = (k: number) => [0, 1000, 1333, 2000, 5000][k % 5];

  /** Each session's stored settlement, its record and its hold, by session id. */
  async function stored(userIds: string[]) {
    const { rows } = await t.db.query(
      `SELECT ss.session_id, ss.status, ss.actual_credits, ss.refund, ss.shortfall,
              (SELECT count(*)::int FROM usage_records ur WHERE ur.metadata ->> 'sessionId' = ss.session_id
                 AND ur.user_id = ss.user_id) AS records,
              (SELECT sum(ur.credits)::int FROM usage_records ur WHERE ur.id = ss.usage_record_id) AS recorded,
              ch.outstanding, ch.settled_at IS NOT NULL AS hold_settled,
              (SELECT COALESCE(sum(abs(l.amount)) FILTER (WHERE l.kind = 'hold'), 0)::int AS held FROM credit_ledger l
                WHERE l.session_id = ss.session_id AND l.account_id = ss.account_id),
              (SELECT COALESCE(sum(abs(l.amount)) FILTER (WHERE l.kind = 'release'), 0)::int AS released FROM credit_ledger l
                WHERE l.session_id = ss.session_id AND l.account_id = ss.account_id),
              (SELECT COALESCE(sum(abs(l.amount)) FILTER (WHERE l.kind = 'debit'), 0)::int AS overrun FROM credit_ledger l
                WHERE l.session_id = ss.session_id AND l.account_id = ss.account_id)
         FROM streaming_sessions ss
         JOIN credit_holds ch ON ch.session_id = ss.session_id AND ch.account_id = ss.account_id
        WHERE ss.user_id = ANY ($1)`,
      [userIds],
    );
    return new Map(rows.map((r) => [r.session_id as string, r]));
  }

  /**
   * Every settled session: one record of what it charged, its hold settled; the ledger held the hold,
   * gave back what the charge left of it and took only the overrun beyond it from the balance.
   */
  function expectSettledOnce(row: Record<string, unknown>, actual: number) {
    expect(row).toMatchObject({ status: 'completed', actual_credits: actual, records: 1, recorded: actual });
    expect(row).toMatchObject({ outstanding: 0, hold_settled: true, held: HOLD });
    expect(row).toMatchObject({ released: Math.max(0, HOLD - actual), overrun: Math.max(0, actual - HOLD) });
  }

  it('40 sessions of one account finalized at once: each answered as alone, in fewer statements', async () => {
    const u = await f.newUser({ credits: 1000 });
    const sessions: string[] = [];
    for (let k = 0; k < 40; k++) sessions.push(await open(u));
    const before = statements.length;
    const answers = await Promise.all(
      sessions.map((sessionId, k) => post(u, 'finalize', { sessionId, actualTokens: tokensOf(k) })),
    );
    const sent = statements.slice(before);
    expect(sent.reduce((a, b) => a + b, 0)).toBe(40);
    expect(sent.length).toBeLessThan(40);

    const rows = await stored([u.id]);
    let charged = 0;
    for (const [k, res] of answers.entries()) {
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      const want = expected(sessions[k], u.id, tokensOf(k));
      expect(res.body).toEqual(want);
      expectSettledOnce(rows.get(sessions[k])!, want.actualCredits);
      charged += want.actualCredits;
    }
    expect(await f.available(u.id)).toBe(1000 - charged);
  });

  it('sessions of 16 accounts finalized at once, with an unknown session among them', async () => {
    const many = await Promise.all(Array.from({ length: 16 }, () => f.newUser({ credits: 30 })));
    const sessions = await Promise.all(many.map(async (u) => ({ u, ids: [await open(u), await open(u)] })));
    const sends = sessions.flatMap(({ u, ids }, a) =>
      ids.map((sessionId, k) => ({ u, sessionId, tokens: tokensOf(a * 2 + k) })),
    );
    const before = statements.length;
    const [unknown, ...answers] = await Promise.all([
      post(many[0], 'finalize', { sessionId: `none-${randomUUID()}`, actualTokens: 10 }),
      ...sends.map(({ u, sessionId, tokens }) => post(u, 'finalize', { sessionId, actualTokens: tokens })),
    ]);
    expect(unknown.status).toBe(404);
    expect(statements.slice(before).length).toBeLessThan(sends.length + 1);

    const rows = await stored(many.map((u) => u.id));
    const charged = new Map<string, number>();
    for (const [k, res] of answers.entries()) {
      const { u, sessionId, tokens } = sends[k];
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      const want = expected(sessionId, u.id, tokens);
      expect(res.body).toEqual(want);
      expectSettledOnce(rows.get(sessionId)!, want.actualCredits);
      charged.set(u.id, (charged.get(u.id) ?? 0) + want.actualCredits);
    }
    for (const u of many) expect(await f.available(u.id)).toBe(30 - charged.get(u.id)!);
  });

  it('one session finalized twice at once, and finalized while aborted: one settlement each', async () => {
    const u = await f.newUser({ credits: 100 });
    const [same, other, raced] = [await open(u), await open(u), await open(u)];
    const [a, b, c, d, e, g] = await Promise.all([
      post(u, 'finalize', { sessionId: same, actualTokens: 1000 }),
      post(u, 'finalize', { sessionId: same, actualTokens: 1000 }),
      post(u, 'finalize', { sessionId: other, actualTokens: 1000 }),
      post(u, 'finalize', { sessionId: other, actualTokens: 2000 }),
      post(u, 'finalize', { sessionId: raced, actualTokens: 1000 }),
      post(u, 'abort', { sessionId: raced, tokensGenerated: 0 }),
    ]);
    // The same request twice: both answer the one settlement.
    expect([a.status, b.status]).toEqual([200, 200]);
    expect(a.body).toEqual(expected(same, u.id, 1000));
    expect(b.body).toEqual(a.body);
    // Two different amounts: the first to settle answers 200, the other 409.
    expect([c.status, d.status].sort()).toEqual([200, 409]);
    const [won, wonTokens] = c.status === 200 ? [c, 1000] : [d, 2000];
    expect(won.body).toEqual(expected(other, u.id, wonTokens));
    expect((c.status === 409 ? c : d).body).toMatchObject({ code: 'ALREADY_SETTLED', sessionId: other });
    // A finalize and an abort: one settles, the other is refused.
    expect([e.status, g.status].sort()).toEqual([200, 409]);

    const rows = await stored([u.id]);
    expectSettledOnce(rows.get(same)!, 3);
    expectSettledOnce(rows.get(other)!, wonTokens === 1000 ? 3 : 6);
    const racedRow = rows.get(raced)!;
    expect(racedRow).toMatchObject({ records: 1, outstanding: 0, hold_settled: true });
    expect(racedRow.status).toBe(e.status === 200 ? 'completed' : 'aborted');
  });
});
