import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { SessionExpiryJob } from '../src/streaming-sessions/session-expiry.job.js';
import { bearer, startTestApp, type TestApp, uniqueId } from './support/app.js';
import { Fixtures, type FixtureUser, tokenFor } from './support/fixtures.js';
import { expectInvariants } from './support/invariants.js';

const admin = bearer(tokenFor('admin', 'volume-settle-admin'));

/**
 * Volume steps beyond the record (docs/pricing.md "Volume steps"): a streaming settlement's record is
 * priced in the take like a record and adds to the period total. The rules: 1 credit a token, up to
 * 1,000 at 100 %, beyond at 50 %, `graduated` and `volume`, over the UTC month; every case is a
 * fresh account.
 */
describe('volume steps: streaming settlements', () => {
  let t: TestApp;
  let f: Fixtures;
  const users: string[] = [];
  const graduated = uniqueId('openai.sgrad');
  const volume = uniqueId('openai.svol');
  const steps = [
    { upTo: 1000, pricePercent: 100 },
    { upTo: null, pricePercent: 50 },
  ];
  const post = (path: string, body: object) => t.http.post(path).set(admin).send(body);
  const record = async (user: FixtureUser, model: string, tokens: number) => {
    const res = await post('/api/usage/record', {
      userId: user.id,
      service: 'chat',
      operation: 'c',
      modelId: model,
      tokens,
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body as { credits: number; volumeStep: number | null };
  };
  const open = async (user: FixtureUser, model: string, estimatedTokens: number) => {
    const sessionId = uniqueId('volsess');
    const init = await t.http
      .post('/api/streaming-sessions/initialize')
      .set(user.auth)
      .send({ sessionId, modelId: model, estimatedTokens });
    expect(init.status, JSON.stringify(init.body)).toBe(201);
    return sessionId;
  };
  const settledRecord = async (user: FixtureUser) =>
    (
      await t.db.query(
        `SELECT credits, volume_step FROM usage_records WHERE user_id = $1 AND service LIKE 'chat-streaming%'
          ORDER BY "timestamp" DESC LIMIT 1`,
        [user.id],
      )
    ).rows[0] as { credits: number; volume_step: number | null };
  const total = async (user: FixtureUser) =>
    (
      await t.db.query(
        `SELECT tokens::int, trim_scale(cost)::text AS cost FROM credit_volume_totals
          WHERE account_id = (SELECT account_id FROM accounts WHERE user_id = $1)`,
        [user.id],
      )
    ).rows as { tokens: number; cost: string }[];
  const net = async (user: FixtureUser) =>
    (
      await t.db.query(
        `SELECT COALESCE(-sum(amount) FILTER (WHERE kind IN ('debit', 'hold', 'release', 'overdraft')), 0)::int AS spent,
                COALESCE(sum(amount) FILTER (WHERE kind = 'volume_adjustment'), 0)::int AS given_back
           FROM credit_ledger WHERE account_id = (SELECT account_id FROM accounts WHERE user_id = $1)`,
        [user.id],
      )
    ).rows[0] as { spent: number; given_back: number };

  beforeAll(async () => {
    t = await startTestApp();
    f = new Fixtures(t, { users, prefix: 'volsettle' });
    for (const [modelId, mode] of [
      [graduated, 'graduated'],
      [volume, 'volume'],
    ]) {
      const rule = await post('/api/pricing', {
        modelId,
        pricePer1kTokens: '1000',
        volume: { mode, period: 'month', steps },
      });
      expect(rule.status, JSON.stringify(rule.body)).toBe(201);
    }
  });
  afterAll(async () => {
    await expectInvariants(t, users);
    await t.close();
  });

  it('a finalize crossing a boundary is charged at the steps and adds to the total', async () => {
    const user = await f.newUser({ credits: 10_000 });
    await record(user, graduated, 999);
    const sessionId = await open(user, graduated, 10);
    const fin = await t.http
      .post('/api/streaming-sessions/finalize')
      .set(user.auth)
      .send({ sessionId, actualTokens: 5 });
    expect(fin.status, JSON.stringify(fin.body)).toBe(200);
    // 1 token at 100 % + 4 at 50 % = 3; the period has charged 999 + 3 = 1,002
    expect(fin.body.actualCredits).toBe(3);
    expect(await settledRecord(user)).toEqual({ credits: 3, volume_step: 1 });
    expect(await total(user)).toEqual([{ tokens: 1004, cost: '1002' }]);
    // the next record prices after the settlement's tokens: 2 at 50 %
    expect(await record(user, graduated, 2)).toMatchObject({ credits: 1, volumeStep: 1 });
    // a retry answers the same settlement again
    const again = await t.http
      .post('/api/streaming-sessions/finalize')
      .set(user.auth)
      .send({ sessionId, actualTokens: 5 });
    expect(again.body.actualCredits).toBe(3);
    expect(await total(user)).toEqual([{ tokens: 1006, cost: '1003' }]);
  });

  it('an abort with tokens is priced at the steps too', async () => {
    const user = await f.newUser({ credits: 10_000 });
    await record(user, graduated, 1000);
    const sessionId = await open(user, graduated, 100);
    const res = await t.http
      .post('/api/streaming-sessions/abort')
      .set(user.auth)
      .send({ sessionId, tokensGenerated: 10 });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.partialCredits).toBe(5);
    expect(await settledRecord(user)).toEqual({ credits: 5, volume_step: 1 });
    expect((await total(user))[0].tokens).toBe(1010);
  });

  it('volume: a settlement taking the total to the cheaper step gives back what was paid above it', async () => {
    // a valued lot, 2 minor units a credit: the give-back carries its credits' money back
    const user = await f.newUser();
    const lot = await f.allocate(user.id, { credits: 10_000, value: { amount: '200.00', currency: 'usd' } });
    expect(lot.status, JSON.stringify(lot.body)).toBe(201);
    await record(user, volume, 999);
    const sessionId = await open(user, volume, 2);
    const fin = await t.http
      .post('/api/streaming-sessions/finalize')
      .set(user.auth)
      .send({ sessionId, actualTokens: 2 });
    expect(fin.status, JSON.stringify(fin.body)).toBe(200);
    // 1,001 tokens at 50 % = 500.5 → 501 for the period: the record paid 999, the settlement 1
    expect(fin.body.actualCredits).toBe(1);
    const n = await net(user);
    expect(n.given_back).toBe(999 + 1 - 501);
    expect(n.spent - n.given_back).toBe(501);
    const money = await t.db.query(
      `SELECT COALESCE(sum(value_minor) FILTER (WHERE kind = 'volume_adjustment'), 0)::int AS back,
              (SELECT sum(value_remaining_minor)::int FROM credit_allocations a
                WHERE a.account_id = (SELECT account_id FROM accounts WHERE user_id = $1)) AS liability
         FROM credit_ledger WHERE account_id = (SELECT account_id FROM accounts WHERE user_id = $1)`,
      [user.id],
    );
    expect(money.rows[0]).toEqual({ back: 499 * 2, liability: 20_000 - 501 * 2 });
  });

  it('an expired session is charged its estimate at the steps', async () => {
    const user = await f.newUser({ credits: 10_000 });
    await record(user, graduated, 990);
    const sessionId = await open(user, graduated, 20);
    await t.db.query(
      `UPDATE streaming_sessions SET started_at = now() - interval '2 hours', expires_at = now() - interval '1 hour'
        WHERE session_id = $1`,
      [sessionId],
    );
    await t.app.get(SessionExpiryJob).expireAbandoned();
    // 10 tokens at 100 % + 10 at 50 %
    expect(await settledRecord(user)).toEqual({ credits: 15, volume_step: 1 });
    expect((await total(user))[0].tokens).toBe(1010);
  });
});
