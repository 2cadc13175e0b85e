import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { SessionExpiryJob } from '../src/streaming-sessions/session-expiry.job.js';
import { UsageStatsService } from '../src/usage/stats/usage-stats.service.js';
import { bearer, startTestApp, type TestApp, uniqueId } from './support/app.js';
import { Fixtures, type FixtureUser, tokenFor } from './support/fixtures.js';
import { expectInvariants } from './support/invariants.js';

const admin = bearer(tokenFor('admin', 'kinds-admin'));

/** A cached Anthropic call: 1,000 new input tokens, 20,000 read from the cache, 500 output. */
const CACHED_CALL = { inputTokens: 1000, cacheReadTokens: 20_000, outputTokens: 500 };
/** ceil((1000 × 3 + 20,000 × 0.3 + 500 × 15) / 1000) = ceil(16.5) */
const CACHED_CREDITS = 17;
/** Its usage record: each kind, and the provider cost of each (1000 × 1 + 20,000 × 0.1 + 500 × 5 = 5,500 / 1000). */
const CACHED_RECORD = {
  credits: CACHED_CREDITS,
  tokens: 21_500,
  input_tokens: 1000,
  output_tokens: 500,
  cache_read_tokens: 20_000,
  cache_write_tokens: 0,
  reasoning_tokens: 0,
  provider_cost: '5.50000000',
};

/**
 * Token kinds (docs/money.md "Units and arithmetic"): a rule priced like a current model, charged exactly through
 * every route that takes token counts; the long-context tier; bad input; price sheets; what records,
 * exports and statistics keep.
 */
describe('token kinds', () => {
  let t: TestApp;
  let f: Fixtures;
  const users: string[] = [];
  /** input 3, output 15, cache write 3.75, cache read 0.3 per 1k; provider cost a third of it. */
  const model = uniqueId('sonnet');
  /** The same with a tier: prompts above 200,000 tokens cost 6 (input) and 22.5 (output). */
  const tiered = uniqueId('long');

  const post = (path: string, auth: Record<string, string>, body: object) => t.http.post(path).set(auth).send(body);
  const recordsOf = async (userId: string) =>
    (
      await t.db.query(
        `SELECT credits, tokens, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, reasoning_tokens,
                provider_cost::text AS provider_cost, service
           FROM usage_records WHERE user_id = $1 ORDER BY "timestamp", id`,
        [userId],
      )
    ).rows;

  beforeAll(async () => {
    t = await startTestApp();
    f = new Fixtures(t, { users, prefix: 'kinds' });
    const rule = await post('/api/pricing', admin, {
      modelId: model,
      pricePer1kTokens: '3',
      outputPricePer1kTokens: 15,
      cacheWritePricePer1kTokens: '3.75',
      cacheReadPricePer1kTokens: '0.3',
      providerCost: { input: '1', output: '5', cacheRead: '0.1', cacheWrite: '1.25' },
    });
    expect(rule.status, JSON.stringify(rule.body)).toBe(201);
    const long = await post('/api/pricing', admin, {
      modelId: tiered,
      pricePer1kTokens: '3',
      outputPricePer1kTokens: '15',
      cacheReadPricePer1kTokens: '0.3',
      longContextThreshold: 200_000,
      longContextPricePer1kTokens: '6',
      longContextOutputPricePer1kTokens: '22.5',
    });
    expect(long.status, JSON.stringify(long.body)).toBe(201);
  });
  afterAll(async () => {
    await expectInvariants(t, users);
    await t.close();
  });

  it('a rule keeps every price; history and the price view show them', async () => {
    const history = await t.http.get(`/api/pricing/${model}/history`).set(admin).expect(200);
    expect(history.body.items).toHaveLength(1);
    expect(history.body.items[0]).toMatchObject({
      pricePer1kTokens: '3.0000',
      outputPricePer1kTokens: '15.0000',
      cacheReadPricePer1kTokens: '0.3000',
      cacheWritePricePer1kTokens: '3.7500',
      reasoningPricePer1kTokens: null,
      longContextThreshold: null,
      providerCostPer1kTokens: '1.0000',
      providerCost: {
        input: '1.0000',
        output: '5.0000',
        cacheRead: '0.1000',
        cacheWrite: '1.2500',
        reasoning: '5.0000',
      },
    });
    const price = await t.http.get(`/api/pricing/${tiered}`).set(admin).expect(200);
    expect(price.body).toMatchObject({
      pricePer1kTokens: '3.0000',
      cacheWritePricePer1kTokens: '3.0000',
      reasoningPricePer1kTokens: '15.0000',
      longContextThreshold: 200000,
      longContextPricePer1kTokens: '6.0000',
      longContextOutputPricePer1kTokens: '22.5000',
      source: 'rule',
    });
  });

  it(`charges a cached call exactly ${CACHED_CREDITS} credits through record, batch, calculate and a session`, async () => {
    const u = await f.newUser({ credits: 1000 });
    const calc = await post('/api/credits/calculate', u.auth, { modelId: model, ...CACHED_CALL }).expect(200);
    expect(calc.body).toMatchObject({ credits: CACHED_CREDITS, tokens: 21_500, pricePer1kTokens: '3.0000' });

    const record = await post('/api/usage/record', u.auth, {
      service: 'chat',
      operation: 'completion',
      modelId: model,
      ...CACHED_CALL,
    }).expect(201);
    expect(record.body).toMatchObject({
      credits: CACHED_CREDITS,
      tokens: 21_500,
      inputTokens: 1000,
      outputTokens: 500,
      cacheReadTokens: 20_000,
      cacheWriteTokens: 0,
      reasoningTokens: 0,
    });

    const batch = await post('/api/usage/records/batch', u.auth, {
      events: [{ eventId: randomUUID(), service: 'chat', operation: 'completion', modelId: model, ...CACHED_CALL }],
    }).expect(200);
    expect(batch.body.results[0]).toMatchObject({ status: 'created', credits: CACHED_CREDITS });

    const sessionId = `chat-${randomUUID()}`;
    const init = await post('/api/streaming-sessions/initialize', u.auth, {
      sessionId,
      modelId: model,
      ...CACHED_CALL,
    }).expect(201);
    expect(init.body).toMatchObject({ estimatedCredits: CACHED_CREDITS, allocatedCredits: 21 });
    const fin = await post('/api/streaming-sessions/finalize', u.auth, { sessionId, ...CACHED_CALL }).expect(200);
    expect(fin.body).toMatchObject({ actualCredits: CACHED_CREDITS, refund: 4, shortfall: 0 });
    // A retry of the same settlement answers it again; other counts of a kind are another request.
    await post('/api/streaming-sessions/finalize', u.auth, { sessionId, ...CACHED_CALL }).expect(200);
    await post('/api/streaming-sessions/finalize', u.auth, { sessionId, ...CACHED_CALL, cacheReadTokens: 1 }).expect(
      409,
    );

    // Each record keeps its kinds and the provider cost of each kind.
    expect(await recordsOf(u.id)).toEqual([
      { ...CACHED_RECORD, service: 'chat' },
      { ...CACHED_RECORD, service: 'chat' },
      { ...CACHED_RECORD, service: 'chat-streaming' },
    ]);
    expect(await f.available(u.id)).toBe(1000 - 3 * CACHED_CREDITS);
  });

  it('prices reasoning apart from output, and an abort by its kinds', async () => {
    const u = await f.newUser({ credits: 1000 });
    const calc = await post('/api/credits/calculate', u.auth, {
      modelId: model,
      inputTokens: 1000,
      outputTokens: 400,
      reasoningTokens: 2000,
    }).expect(200);
    // 3 + 400 × 15 / 1000 + 2,000 × 15 / 1000 = 3 + 6 + 30
    expect(calc.body.credits).toBe(39);
    const sessionId = `chat-${randomUUID()}`;
    await post('/api/streaming-sessions/initialize', u.auth, {
      sessionId,
      modelId: model,
      estimatedTokens: 10_000,
    }).expect(201);
    const aborted = await post('/api/streaming-sessions/abort', u.auth, {
      sessionId,
      cacheWriteTokens: 2000,
      reasoningTokens: 100,
    }).expect(200);
    // 2,000 × 3.75 + 100 × 15 = 9,000 → 9
    expect(aborted.body).toMatchObject({ partialCredits: 9 });
    const [row] = await recordsOf(u.id);
    expect(row).toMatchObject({ credits: 9, cache_write_tokens: 2000, reasoning_tokens: 100, input_tokens: 0 });
  });

  it("an abandoned session is charged its estimate and its record keeps the estimate's kinds", async () => {
    const u = await f.newUser({ credits: 1000 });
    const split = await post('/api/streaming-sessions/initialize', u.auth, { modelId: model, ...CACHED_CALL }).expect(
      201,
    );
    // One count, as before token kinds: its record keeps the total only, priced and costed as input.
    const single = await post('/api/streaming-sessions/initialize', u.auth, {
      modelId: model,
      estimatedTokens: 2000,
    }).expect(201);
    expect(single.body.estimatedCredits).toBe(6);
    // Both past their expiry, by the rows; then the job settles them at their estimates.
    await t.db.query(
      `UPDATE streaming_sessions SET started_at = now() - interval '2 hours', expires_at = now() - interval '1 hour'
        WHERE user_id = $1`,
      [u.id],
    );
    await t.app.get(SessionExpiryJob).expireAbandoned();

    const rows = await recordsOf(u.id);
    expect(rows).toHaveLength(2);
    expect(rows).toEqual(
      expect.arrayContaining([
        // Its kinds and their provider cost, as the same call finalized.
        { ...CACHED_RECORD, service: 'chat-streaming-expired' },
        {
          service: 'chat-streaming-expired',
          credits: 6,
          tokens: 2000,
          input_tokens: null,
          output_tokens: null,
          cache_read_tokens: null,
          cache_write_tokens: null,
          reasoning_tokens: null,
          provider_cost: '2.00000000',
        },
      ]),
    );
    const stored = await t.db.query(
      `SELECT status, estimated_input_tokens, estimated_cache_read_tokens FROM streaming_sessions WHERE session_id = $1`,
      [split.body.sessionId],
    );
    expect(stored.rows).toEqual([
      { status: 'expired', estimated_input_tokens: 1000, estimated_cache_read_tokens: 20_000 },
    ]);
    expect(await f.available(u.id)).toBe(1000 - CACHED_CREDITS - 6);
  });

  it('a split estimate must add up: the database refuses kinds that do not', async () => {
    const u = await f.newUser({ credits: 100 });
    const s = await post('/api/streaming-sessions/initialize', u.auth, { modelId: model, inputTokens: 10 }).expect(201);
    await expect(
      t.db.query(`UPDATE streaming_sessions SET estimated_output_tokens = 5 WHERE session_id = $1`, [s.body.sessionId]),
    ).rejects.toThrow(/streaming_sessions_estimate_split_check/);
    await expect(
      t.db.query(`UPDATE streaming_sessions SET estimated_output_tokens = NULL WHERE session_id = $1`, [
        s.body.sessionId,
      ]),
    ).rejects.toThrow(/streaming_sessions_estimate_split_check/);
  });

  it('prices a 250,000-token prompt at the long-context tier, in TypeScript and in SQL alike', async () => {
    const u = await f.newUser({ credits: 10_000 });
    const long = { inputTokens: 250_000, outputTokens: 1000 };
    // 250 × 6 + 1 × 22.5 = 1,522.5 → 1,523 (the base prices would give 765)
    const calc = await post('/api/credits/calculate', u.auth, { modelId: tiered, ...long }).expect(200);
    expect(calc.body).toMatchObject({ credits: 1523, pricePer1kTokens: '6.0000', outputPricePer1kTokens: '22.5000' });
    const atThreshold = await post('/api/credits/calculate', u.auth, {
      modelId: tiered,
      inputTokens: 200_000,
      outputTokens: 1000,
    }).expect(200);
    expect(atThreshold.body.credits).toBe(615);
    // Cache reads count toward the prompt and keep their price: 1 × 6 + 200 × 0.3 + 22.5 = 88.5 → 89
    const cached = await post('/api/credits/calculate', u.auth, {
      modelId: tiered,
      inputTokens: 1000,
      cacheReadTokens: 200_000,
      outputTokens: 1000,
    }).expect(200);
    expect(cached.body.credits).toBe(89);

    const record = await post('/api/usage/record', u.auth, {
      service: 'chat',
      operation: 'completion',
      modelId: tiered,
      ...long,
    }).expect(201);
    expect(record.body.credits).toBe(1523);
    const sessionId = `chat-${randomUUID()}`;
    await post('/api/streaming-sessions/initialize', u.auth, {
      sessionId,
      modelId: tiered,
      estimatedTokens: 1000,
    }).expect(201);
    const fin = await post('/api/streaming-sessions/finalize', u.auth, { sessionId, ...long }).expect(200);
    expect(fin.body).toMatchObject({ actualCredits: 1523 });
    expect(await f.available(u.id)).toBe(10_000 - 2 * 1523);
  });

  describe('bad input is a 400 and writes nothing', () => {
    let u: FixtureUser;
    beforeAll(async () => {
      u = await f.newUser({ credits: 100 });
    });
    const base = { service: 'chat', operation: 'completion', modelId: model };

    it.each([
      ['a negative count', { ...base, cacheReadTokens: -1 }],
      ['a non-integer count', { ...base, reasoningTokens: 1.5 }],
      ['a count as a string', { ...base, cacheWriteTokens: '10' }],
      ['a null count', { ...base, cacheReadTokens: null }],
      ['a single count with kinds', { ...base, tokens: 100, cacheReadTokens: 10 }],
      ['kinds without a model', { service: 'chat', operation: 'completion', credits: 1, cacheReadTokens: 10 }],
      [
        'kinds beyond the integer range together',
        { ...base, inputTokens: 2_000_000_000, cacheReadTokens: 2_000_000_000 },
      ],
    ])('record: %s', async (_name, body) => {
      const res = await post('/api/usage/record', u.auth, body).expect(400);
      expect(res.body.statusCode).toBe(400);
      expect(await recordsOf(u.id)).toEqual([]);
      expect(await f.available(u.id)).toBe(100);
    });

    it('batch: such an event is invalid, the others apply', async () => {
      const res = await post('/api/usage/records/batch', u.auth, {
        events: [
          { eventId: randomUUID(), service: 'chat', operation: 'c', credits: 1, reasoningTokens: 5 },
          { eventId: randomUUID(), ...base, cacheReadTokens: -5 },
        ],
      }).expect(200);
      expect(res.body.results.map((r: { status: string }) => r.status)).toEqual(['invalid', 'invalid']);
      expect(res.body.results[0].error).toMatch(/need a modelId/);
      expect(await recordsOf(u.id)).toEqual([]);
    });

    it('calculate, initialize and finalize refuse bad counts', async () => {
      await post('/api/credits/calculate', u.auth, { modelId: model, cacheReadTokens: -1 }).expect(400);
      await post('/api/credits/calculate', u.auth, { modelId: model, tokens: 5, reasoningTokens: 1 }).expect(400);
      const sessionId = `chat-${randomUUID()}`;
      await post('/api/streaming-sessions/initialize', u.auth, {
        sessionId,
        modelId: model,
        cacheReadTokens: 0.5,
      }).expect(400);
      await post('/api/streaming-sessions/initialize', u.auth, {
        sessionId,
        modelId: model,
        estimatedTokens: 10,
      }).expect(201);
      await post('/api/streaming-sessions/finalize', u.auth, { sessionId, actualTokens: 5, reasoningTokens: 5 }).expect(
        400,
      );
      await post('/api/streaming-sessions/finalize', u.auth, { sessionId, reasoningTokens: -5 }).expect(400);
      const active = await t.db.query(`SELECT status FROM streaming_sessions WHERE session_id = $1`, [sessionId]);
      expect(active.rows).toEqual([{ status: 'active' }]);
      await post('/api/streaming-sessions/abort', u.auth, { sessionId }).expect(200);
    });

    it.each([
      ['a tier without its prices', { longContextThreshold: 1000 }],
      ['tier prices without a threshold', { longContextPricePer1kTokens: '1', longContextOutputPricePer1kTokens: '2' }],
      ['a tier without its output price', { longContextThreshold: 1000, longContextPricePer1kTokens: '1' }],
      ['providerCost and providerCostPer1kTokens', { providerCost: { input: '1' }, providerCostPer1kTokens: '1' }],
      ['providerCost without input', { providerCost: { output: '1' } }],
      ['a cache price with 11 places', { cacheReadPricePer1kTokens: '0.00000000001' }],
      ['a negative reasoning price', { reasoningPricePer1kTokens: -1 }],
    ])('a rule with %s', async (_name, extra) => {
      const modelId = uniqueId('bad');
      await post('/api/pricing', admin, { modelId, pricePer1kTokens: '1', ...extra }).expect(400);
      expect((await t.http.get(`/api/pricing/${modelId}/history`).set(admin).expect(200)).body.items).toEqual([]);
    });
  });

  describe('POST /api/pricing/import', () => {
    const sheet = (a: string, b: string) => [
      {
        modelId: a,
        pricePer1kTokens: '3',
        outputPricePer1kTokens: '15',
        cacheReadPricePer1kTokens: '0.3',
        cacheWritePricePer1kTokens: 3.75,
      },
      {
        modelId: b,
        pricePer1kTokens: '1.25',
        outputPricePer1kTokens: '10',
        longContextThreshold: 200000,
        longContextPricePer1kTokens: '2.5',
        longContextOutputPricePer1kTokens: '15',
      },
    ];
    const historyOf = async (modelId: string) =>
      (await t.http.get(`/api/pricing/${modelId}/history`).set(admin).expect(200)).body.items;

    it('loads the example sheet of docs/ (its models renamed: other spec files share the database)', async () => {
      const file = JSON.parse(readFileSync(new URL('../docs/price-sheet.example.json', import.meta.url), 'utf8')) as {
        rules: { modelId: string }[];
      };
      const rules = file.rules.map((r) => ({ ...r, modelId: uniqueId(r.modelId.split('.')[0]) }));
      const res = await post('/api/pricing/import', admin, { ...file, rules }).expect(201);
      expect(res.body).toMatchObject({ created: 3, unchanged: 0 });
      const u = await f.newUser();
      const calc = await post('/api/credits/calculate', u.auth, { modelId: rules[0].modelId, ...CACHED_CALL });
      expect(calc.body.credits).toBe(CACHED_CREDITS);
    });

    it('is for admins only', async () => {
      const u = await f.newUser();
      await post('/api/pricing/import', u.auth, { rules: sheet(uniqueId('a'), uniqueId('b')) }).expect(403);
    });

    it('writes every rule at one instant; the same sheet again changes nothing', async () => {
      const [a, b] = [uniqueId('sheet-a'), uniqueId('sheet-b')];
      await post('/api/pricing', admin, { modelId: a, pricePer1kTokens: '9' }).expect(201);
      const effectiveFrom = new Date(Date.now() + 60_000).toISOString();
      const first = await post('/api/pricing/import', admin, { effectiveFrom, rules: sheet(a, b) }).expect(201);
      expect(first.body).toMatchObject({ effectiveFrom, created: 2, unchanged: 0 });
      expect(
        first.body.items.map((r: { modelId: string; effectiveFrom: string }) => [r.modelId, r.effectiveFrom]),
      ).toEqual([
        [a, effectiveFrom],
        [b, effectiveFrom],
      ]);
      // a's old rule was closed where the sheet starts.
      const history = await historyOf(a);
      expect(history.map((r: { effectiveTo: string | null }) => r.effectiveTo)).toEqual([null, effectiveFrom]);

      const again = await post('/api/pricing/import', admin, { rules: sheet(a, b) }).expect(201);
      expect(again.body).toMatchObject({ created: 0, unchanged: 2 });
      expect(again.body.items.map((r: { id: string }) => r.id)).toEqual(
        first.body.items.map((r: { id: string }) => r.id),
      );
      expect(await historyOf(a)).toHaveLength(2);
      expect(await historyOf(b)).toHaveLength(1);
    });

    it('is all or none: one invalid rule → 400 naming it, nothing written', async () => {
      const [a, b] = [uniqueId('none-a'), uniqueId('none-b')];
      const bad = sheet(a, b);
      delete (bad[1] as { longContextOutputPricePer1kTokens?: string }).longContextOutputPricePer1kTokens;
      const res = await post('/api/pricing/import', admin, { rules: bad }).expect(400);
      expect(JSON.stringify(res.body.message)).toContain(`rules[1] (${b})`);
      const shape = await post('/api/pricing/import', admin, {
        rules: [sheet(a, b)[0], { modelId: b, pricePer1kTokens: '-1' }],
      }).expect(400);
      expect(JSON.stringify(shape.body.message)).toMatch(/rules\.1\.pricePer1kTokens/);
      await post('/api/pricing/import', admin, { rules: [sheet(a, b)[0], sheet(a, b)[0]] }).expect(400);
      await post('/api/pricing/import', admin, { rules: [] }).expect(400);
      // A rule that would overlap a later rule of its model: 409, and the sheet's other rule is not written.
      await post('/api/pricing', admin, {
        modelId: b,
        pricePer1kTokens: '1',
        effectiveFrom: new Date(Date.now() + 3_600_000).toISOString(),
      }).expect(201);
      await post('/api/pricing/import', admin, { rules: sheet(a, b) }).expect(409);
      expect(await historyOf(a)).toEqual([]);
      expect(await historyOf(b)).toHaveLength(1);
    });
  });

  it('CSV exports and statistics keep each kind; system statistics read them from the rollups', async () => {
    const u = await f.newUser({ credits: 1000 });
    await post('/api/usage/record', u.auth, { service: 'chat', operation: 'c', modelId: model, ...CACHED_CALL }).expect(
      201,
    );
    await post('/api/usage/record', u.auth, { service: 'chat', operation: 'c', modelId: model, tokens: 700 }).expect(
      201,
    );
    await post('/api/usage/record', u.auth, {
      service: 'chat',
      operation: 'c',
      modelId: model,
      cacheWriteTokens: 40,
      reasoningTokens: 9,
    }).expect(201);
    const csv = await t.http.get('/api/usage/records/export').set(u.auth).expect(200);
    const lines = (csv.text as string).split('\r\n').filter(Boolean);
    expect(lines[0]).toBe(
      'id,userId,timestamp,service,operation,credits,modelId,tokens,inputTokens,outputTokens,cacheReadTokens,' +
        'cacheWriteTokens,reasoningTokens,billingStatus,metadata,apiKeyId,actorId,orgId,serviceTier,units',
    );
    expect(lines.slice(1).map((l) => l.split(',').slice(7, 13).join(','))).toEqual([
      '49,0,0,0,40,9',
      '700,,,,,',
      '21500,1000,500,20000,0,0',
    ]);
    const mine = await t.http.get('/api/usage/stats').set(u.auth).expect(200);
    // A single `tokens` count is input: 1000 + 700.
    const expected = { input: 1700, output: 500, cacheRead: 20_000, cacheWrite: 40, reasoning: 9 };
    expect(mine.body.tokensByKind).toEqual(expected);

    // System-wide, over a day only this test writes to: rows straight in the table (rollup deltas), then folded.
    const tag = randomUUID().slice(0, 8);
    await t.db.query(
      `INSERT INTO usage_records (user_id, "timestamp", service, operation, credits, model_id, tokens, input_tokens,
                                  output_tokens, cache_read_tokens, cache_write_tokens, reasoning_tokens, account_id) VALUES
        ($1, '2002-03-04T10:00:00Z', 'chat', 'c', 17, $2, 21500, 1000, 500, 20000, 0, 0, (SELECT account_id FROM accounts WHERE user_id = $1::varchar)),
        ($1, '2002-03-04T11:00:00Z', 'chat', 'c', 3, $2, 700, NULL, NULL, NULL, NULL, NULL, (SELECT account_id FROM accounts WHERE user_id = $1::varchar)),
        ($1, '2002-03-05T00:00:00Z', 'chat', 'c', 1, $2, 49, 0, 0, 0, 40, 9, (SELECT account_id FROM accounts WHERE user_id = $1::varchar))`,
      [u.id, `m-${tag}`],
    );
    const stats = () =>
      t.http.get('/api/usage/system-stats?startDate=2002-03-04&endDate=2002-03-05T00:00:00Z').set(admin).expect(200);
    expect((await stats()).body.tokensByKind).toEqual(expected);
    await t.app.get(UsageStatsService).compactRollups();
    expect((await stats()).body.tokensByKind).toEqual(expected);
    // Partial edge days come from the records: here only the record of 11:00.
    const edge = await t.http
      .get('/api/usage/system-stats?startDate=2002-03-04T10:30:00Z&endDate=2002-03-04T23:00:00Z')
      .set(admin)
      .expect(200);
    expect(edge.body.tokensByKind).toEqual({ input: 700, output: 0, cacheRead: 0, cacheWrite: 0, reasoning: 0 });
    await t.db.query(`DELETE FROM usage_records WHERE model_id = $1`, [`m-${tag}`]);
  });
});
