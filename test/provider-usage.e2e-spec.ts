import { randomUUID } from 'node:crypto';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { SessionExpiryJob } from '../src/streaming-sessions/session-expiry.job.js';
import { bearer, startTestApp, type TestApp, uniqueId } from './support/app.js';
import { Fixtures, type FixtureUser, tokenFor } from './support/fixtures.js';
import { expectInvariants } from './support/invariants.js';

const admin = bearer(tokenFor('admin', 'provider-usage-admin'));

/**
 * Usage objects as the providers published them (sources: src/pricing/provider-usage.spec.ts), each
 * with its kinds under the table of docs/provider-usage.md "The mapping" and its exact price at the rule below:
 * input 3, output 15, cache read 0.3, cache write 3.75, reasoning 12 credits per 1,000 tokens.
 */
const CALLS = {
  openAiChat: {
    format: 'openai.chat',
    usage: {
      prompt_tokens: 2006,
      completion_tokens: 300,
      total_tokens: 2306,
      prompt_tokens_details: { cached_tokens: 1920 },
      completion_tokens_details: { reasoning_tokens: 0 },
    },
    kinds: { inputTokens: 86, cacheReadTokens: 1920, cacheWriteTokens: 0, outputTokens: 300, reasoningTokens: 0 },
    // (86 × 3 + 1,920 × 0.3 + 300 × 15) / 1000 = (258 + 576 + 4,500) / 1000 = 5.334
    credits: 6,
  },
  openAiResponses: {
    format: 'openai.responses',
    usage: {
      input_tokens: 1500,
      input_tokens_details: { cached_tokens: 1024 },
      output_tokens: 500,
      output_tokens_details: { reasoning_tokens: 300 },
      total_tokens: 2000,
    },
    kinds: { inputTokens: 476, cacheReadTokens: 1024, cacheWriteTokens: 0, outputTokens: 200, reasoningTokens: 300 },
    // (476 × 3 + 1,024 × 0.3 + 200 × 15 + 300 × 12) / 1000 = (1,428 + 307.2 + 3,000 + 3,600) / 1000 = 8.3352
    credits: 9,
  },
  anthropic: {
    format: 'anthropic',
    usage: {
      input_tokens: 42,
      output_tokens: 99,
      cache_creation_input_tokens: 7,
      cache_read_input_tokens: 8,
      server_tool_use: { web_search_requests: 1, web_fetch_requests: 2 },
      output_tokens_details: { thinking_tokens: 30 },
      cache_creation: { ephemeral_5m_input_tokens: 2, ephemeral_1h_input_tokens: 0 },
      service_tier: 'standard',
    },
    kinds: { inputTokens: 42, cacheReadTokens: 8, cacheWriteTokens: 7, outputTokens: 99, reasoningTokens: 0 },
    // (42 × 3 + 8 × 0.3 + 7 × 3.75 + 99 × 15) / 1000 = (126 + 2.4 + 26.25 + 1,485) / 1000 = 1.63965
    credits: 2,
  },
  gemini: {
    format: 'gemini',
    usage: {
      candidatesTokenCount: 433,
      promptTokenCount: 1832,
      promptTokensDetails: [{ modality: 'TEXT', tokenCount: 1832 }],
      thoughtsTokenCount: 194,
      toolUsePromptTokenCount: 2026,
      toolUsePromptTokensDetails: [{ modality: 'TEXT', tokenCount: 2026 }],
      totalTokenCount: 4485,
    },
    kinds: { inputTokens: 3858, cacheReadTokens: 0, cacheWriteTokens: 0, outputTokens: 433, reasoningTokens: 194 },
    // (3,858 × 3 + 433 × 15 + 194 × 12) / 1000 = (11,574 + 6,495 + 2,328) / 1000 = 20.397
    credits: 21,
  },
} as const;
type Call = (typeof CALLS)[keyof typeof CALLS];
const providerUsage = (call: Call) => ({ format: call.format, usage: call.usage });
const total = (call: Call) => Object.values(call.kinds).reduce((a: number, b: number) => a + b, 0);

/**
 * Provider usage (docs/provider-usage.md): each provider's usage
 * object costs exactly its kinds through record, batch, finalize and abort; records keep where the
 * counts came from, how the stream ended and the object as sent; bad usage writes nothing.
 */
describe('provider usage', () => {
  let t: TestApp;
  let f: Fixtures;
  const users: string[] = [];
  const model = uniqueId('pu-model');

  const post = (path: string, auth: Record<string, string>, body: object) => t.http.post(path).set(auth).send(body);
  const recordsOf = async (userId: string) =>
    (
      await t.db.query(
        `SELECT service, credits, tokens, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens,
                reasoning_tokens, usage_source, termination, provider_usage
           FROM usage_records WHERE user_id = $1 ORDER BY "timestamp", id`,
        [userId],
      )
    ).rows;
  const columns = (call: Call) => ({
    input_tokens: call.kinds.inputTokens,
    output_tokens: call.kinds.outputTokens,
    cache_read_tokens: call.kinds.cacheReadTokens,
    cache_write_tokens: call.kinds.cacheWriteTokens,
    reasoning_tokens: call.kinds.reasoningTokens,
  });
  const record = (u: FixtureUser, body: object) =>
    post('/api/usage/record', u.auth, { service: 'chat', operation: 'completion', modelId: model, ...body });
  const session = async (u: FixtureUser, estimatedTokens = 1000) => {
    const sessionId = `chat-${randomUUID()}`;
    await post('/api/streaming-sessions/initialize', u.auth, { sessionId, modelId: model, estimatedTokens }).expect(
      201,
    );
    return sessionId;
  };

  beforeAll(async () => {
    t = await startTestApp();
    f = new Fixtures(t, { users, prefix: 'pu' });
    const rule = await post('/api/pricing', admin, {
      modelId: model,
      pricePer1kTokens: '3',
      outputPricePer1kTokens: '15',
      cacheReadPricePer1kTokens: '0.3',
      cacheWritePricePer1kTokens: '3.75',
      reasoningPricePer1kTokens: '12',
      // The anthropic call's web search is the unit web_search_call, which must be priced to be metered;
      // free here, so these tests check the tokens' arithmetic (test/pricing-dimensions.e2e-spec.ts prices it).
      unitPrices: { web_search_call: '0' },
    });
    expect(rule.status, JSON.stringify(rule.body)).toBe(201);
  });
  afterAll(async () => {
    await expectInvariants(t, users);
    await t.close();
  });

  for (const call of Object.values(CALLS)) {
    it(`${call.format}: a record costs exactly its kinds (${call.credits} credits), as the same kinds given apart`, async () => {
      const u = await f.newUser({ credits: 1000 });
      const res = await record(u, { providerUsage: providerUsage(call) }).expect(201);
      expect(res.body).toMatchObject({
        credits: call.credits,
        ...call.kinds,
        tokens: total(call),
        usageSource: 'provider',
        termination: null,
        providerUsage: providerUsage(call),
      });
      // The same call reported as token kinds: the same charge, recorded as `reported`.
      const reported = await record(u, call.kinds).expect(201);
      expect(reported.body).toMatchObject({ credits: call.credits, usageSource: 'reported', providerUsage: null });
      expect(await f.available(u.id)).toBe(1000 - 2 * call.credits);

      const listed = await t.http.get('/api/usage/records').set(u.auth).expect(200);
      expect(listed.body.items.map((r: { usageSource: string }) => r.usageSource)).toEqual(['reported', 'provider']);
      expect(listed.body.items[1]).toMatchObject({ providerUsage: providerUsage(call), termination: null });
      const stats = await t.http.get('/api/usage/stats').set(u.auth).expect(200);
      expect(stats.body.recentActivity[1]).toMatchObject({
        usageSource: 'provider',
        providerUsage: providerUsage(call),
      });
    });
  }

  it('a batch prices each event from its provider usage; a bad one alone is invalid', async () => {
    const u = await f.newUser({ credits: 1000 });
    const calls = Object.values(CALLS);
    const res = await post('/api/usage/records/batch', u.auth, {
      events: [
        ...calls.map((call) => ({
          eventId: randomUUID(),
          service: 'chat',
          operation: 'completion',
          modelId: model,
          providerUsage: providerUsage(call),
        })),
        {
          eventId: randomUUID(),
          service: 'chat',
          operation: 'completion',
          modelId: model,
          providerUsage: { format: 'anthropic', usage: { input_tokens: -5 } },
        },
      ],
    }).expect(200);
    expect(res.body).toMatchObject({ created: 4, rejected: 1 });
    expect(res.body.results.map((r: { credits?: number }) => r.credits)).toEqual([
      ...calls.map((c) => c.credits),
      undefined,
    ]);
    expect(res.body.results[4]).toMatchObject({ status: 'invalid', error: expect.stringMatching(/input_tokens/) });
    const rows = await recordsOf(u.id);
    expect(rows).toEqual(
      calls.map((call) => ({
        service: 'chat',
        credits: call.credits,
        tokens: total(call),
        ...columns(call),
        usage_source: 'provider',
        termination: null,
        provider_usage: providerUsage(call),
      })),
    );
    expect(await f.available(u.id)).toBe(1000 - calls.reduce((a, c) => a + c.credits, 0));
  });

  it('finalize bills the provider usage, keeps the termination, and answers an identical retry again', async () => {
    const u = await f.newUser({ credits: 1000 });
    const sessionId = await session(u);
    const body = { sessionId, providerUsage: providerUsage(CALLS.gemini), termination: 'max_tokens' };
    const first = await post('/api/streaming-sessions/finalize', u.auth, body).expect(200);
    // The estimate: 1,000 tokens as input, 3 credits, held 4; the real call costs 21: 17 more taken.
    expect(first.body).toMatchObject({
      status: 'completed',
      estimatedCredits: 3,
      allocatedCredits: 4,
      actualCredits: CALLS.gemini.credits,
      refund: 0,
      shortfall: 0,
    });
    const again = await post('/api/streaming-sessions/finalize', u.auth, body).expect(200);
    expect(again.body).toEqual(first.body);
    // Another termination, the same counts given as kinds, or another route: another request.
    await post('/api/streaming-sessions/finalize', u.auth, { ...body, termination: 'completed' }).expect(409);
    await post('/api/streaming-sessions/finalize', u.auth, { sessionId, ...CALLS.gemini.kinds }).expect(409);
    await post('/api/streaming-sessions/abort', u.auth, body).expect(409);

    expect(await recordsOf(u.id)).toEqual([
      {
        service: 'chat-streaming',
        credits: CALLS.gemini.credits,
        tokens: 4485,
        ...columns(CALLS.gemini),
        usage_source: 'provider',
        termination: 'max_tokens',
        provider_usage: providerUsage(CALLS.gemini),
      },
    ]);
    expect(await f.available(u.id)).toBe(1000 - CALLS.gemini.credits);
  });

  it('an abort bills the usage seen so far, or records an estimate when it names none', async () => {
    const u = await f.newUser({ credits: 1000 });
    const stopped = await session(u);
    const body = { sessionId: stopped, providerUsage: providerUsage(CALLS.anthropic), termination: 'client_abort' };
    const first = await post('/api/streaming-sessions/abort', u.auth, body).expect(200);
    expect(first.body).toMatchObject({ status: 'aborted', partialCredits: CALLS.anthropic.credits, refund: 2 });
    expect((await post('/api/streaming-sessions/abort', u.auth, body).expect(200)).body).toEqual(first.body);

    const failed = await session(u);
    const error = await post('/api/streaming-sessions/abort', u.auth, {
      sessionId: failed,
      termination: 'upstream_error',
    }).expect(200);
    expect(error.body).toMatchObject({ partialCredits: 0, refund: 4 });
    const cut = await session(u);
    await post('/api/streaming-sessions/abort', u.auth, { sessionId: cut, tokensGenerated: 0 }).expect(200);

    const rows = await recordsOf(u.id);
    expect(rows.map((r) => [r.service, r.credits, r.usage_source, r.termination])).toEqual([
      ['chat-streaming-aborted', CALLS.anthropic.credits, 'provider', 'client_abort'],
      ['chat-streaming-aborted', 0, 'estimated', 'upstream_error'],
      // An explicit count, even 0, is reported.
      ['chat-streaming-aborted', 0, 'reported', null],
    ]);
    expect(rows[0]).toMatchObject({ ...columns(CALLS.anthropic), provider_usage: providerUsage(CALLS.anthropic) });
  });

  it('a shortfall from provider usage reaches the review queue with its source and termination', async () => {
    const u = await f.newUser({ credits: 4 });
    const sessionId = await session(u);
    const fin = await post('/api/streaming-sessions/finalize', u.auth, {
      sessionId,
      providerUsage: providerUsage(CALLS.gemini),
      termination: 'completed',
    }).expect(200);
    // 21 charged against a hold of 4 and nothing else: 17 short.
    expect(fin.body).toMatchObject({ actualCredits: CALLS.gemini.credits, shortfall: 17 });
    const queue = await t.http.get('/api/credits/review?limit=500').set(admin).expect(200);
    const item = queue.body.items.find((i: { userId: string }) => i.userId === u.id);
    expect(item).toMatchObject({ shortfall: 17, credits: 4, usageSource: 'provider', termination: 'completed' });
  });

  it('an expired session is recorded as estimated', async () => {
    const u = await f.newUser({ credits: 1000 });
    const sessionId = await session(u, 2000);
    await t.db.query(
      `UPDATE streaming_sessions SET started_at = now() - interval '2 hours', expires_at = now() - interval '1 hour'
        WHERE user_id = $1 AND session_id = $2`,
      [u.id, sessionId],
    );
    await t.app.get(SessionExpiryJob).expireAbandoned();
    expect(await recordsOf(u.id)).toEqual([
      expect.objectContaining({
        service: 'chat-streaming-expired',
        credits: 6,
        usage_source: 'estimated',
        termination: null,
        provider_usage: null,
      }),
    ]);
  });

  it('bad provider usage is a 400 on every route and writes nothing', async () => {
    const u = await f.newUser({ credits: 1000 });
    const sessionId = await session(u);
    const valid = providerUsage(CALLS.openAiChat);
    const bad: [string, object][] = [
      ['a negative count', { providerUsage: { format: 'anthropic', usage: { input_tokens: -1 } } }],
      ['a fractional count', { providerUsage: { format: 'gemini', usage: { promptTokenCount: 10.5 } } }],
      ['a count as text', { providerUsage: { format: 'openai.chat', usage: { prompt_tokens: '10' } } }],
      [
        'cached tokens beyond the prompt',
        {
          providerUsage: {
            format: 'openai.chat',
            usage: { prompt_tokens: 10, prompt_tokens_details: { cached_tokens: 11 } },
          },
        },
      ],
      [
        'reasoning tokens beyond the output',
        {
          providerUsage: {
            format: 'openai.responses',
            usage: { output_tokens: 10, output_tokens_details: { reasoning_tokens: 11 } },
          },
        },
      ],
      [
        'cached content beyond the prompt',
        { providerUsage: { format: 'gemini', usage: { promptTokenCount: 5, cachedContentTokenCount: 6 } } },
      ],
      ['an unknown format', { providerUsage: { format: 'mistral', usage: { prompt_tokens: 1 } } }],
      ['no usage object', { providerUsage: { format: 'anthropic' } }],
      ['a field beside format and usage', { providerUsage: { ...valid, model: 'gpt-4o' } }],
      [
        'over 4,096 bytes',
        { providerUsage: { format: 'anthropic', usage: { input_tokens: 1, padding: 'x'.repeat(4096) } } },
      ],
      ['beside the counts per kind', { providerUsage: valid, inputTokens: 10 }],
      ['beside reasoningTokens', { providerUsage: valid, reasoningTokens: 10 }],
    ];
    const problems: string[] = [];
    const expect400 = async (route: string, body: object, what: string) => {
      const res = await post(route, u.auth, body);
      if (res.status !== 400) problems.push(`${route} ${what}: ${res.status} ${JSON.stringify(res.body)}`);
    };
    for (const [what, body] of bad) {
      await expect400('/api/usage/record', { service: 'chat', operation: 'completion', modelId: model, ...body }, what);
      await expect400('/api/streaming-sessions/finalize', { sessionId, ...body }, what);
      await expect400('/api/streaming-sessions/abort', { sessionId, ...body }, what);
    }
    const base = { service: 'chat', operation: 'completion', modelId: model, providerUsage: valid };
    await expect400('/api/usage/record', { ...base, credits: 5 }, 'beside credits');
    await expect400('/api/usage/record', { ...base, tokens: 5 }, 'beside tokens');
    await expect400('/api/usage/record', { ...base, modelId: undefined }, 'without modelId');
    await expect400('/api/streaming-sessions/finalize', { sessionId, providerUsage: valid, actualTokens: 5 }, 'actual');
    await expect400('/api/streaming-sessions/abort', { sessionId, providerUsage: valid, tokensGenerated: 5 }, 'gen');
    await expect400('/api/streaming-sessions/finalize', { sessionId, actualTokens: 5, termination: 'done' }, 'term');
    await expect400('/api/streaming-sessions/abort', { sessionId, termination: null }, 'null termination');
    expect(problems).toEqual([]);

    // Nothing was written: no record, the balance whole but for the hold, the session still active.
    expect(await recordsOf(u.id)).toEqual([]);
    expect(await f.available(u.id)).toBe(1000 - 4);
    const { rows } = await t.db.query(`SELECT status FROM streaming_sessions WHERE user_id = $1`, [u.id]);
    expect(rows).toEqual([{ status: 'active' }]);
    // And a 400 names what is wrong.
    const res = await record(u, bad[3][1]).expect(400);
    expect(JSON.stringify(res.body.message)).toMatch(/cached_tokens \(11\) must not exceed usage.prompt_tokens \(10\)/);
  });

  it('parallel records from provider usage never spend more than the balance', async () => {
    const u = await f.newUser({ credits: 3 * CALLS.openAiChat.credits + 1 });
    const results = await Promise.all(
      Array.from({ length: 8 }, () => record(u, { providerUsage: providerUsage(CALLS.openAiChat) })),
    );
    const statuses = results.map((r) => r.status).sort();
    expect(statuses).toEqual([201, 201, 201, 402, 402, 402, 402, 402]);
    expect(await f.available(u.id)).toBe(1);
    expect((await recordsOf(u.id)).every((r) => r.usage_source === 'provider')).toBe(true);
  });
});
