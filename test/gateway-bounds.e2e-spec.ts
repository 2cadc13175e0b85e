import { randomUUID } from 'node:crypto';

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { uniqueId } from './support/app.js';
import type { FixtureUser } from './support/fixtures.js';
import { type GatewayHarness, startGateway } from './support/gateway.js';
import { estimateOf, heldOf, otherModel } from './support/gateway-holds.js';
import { expectInvariants } from './support/invariants.js';

/**
 * The hold is a bound (docs/gateway.md "What can change the cost"): every field that can raise what a
 * request costs is held, or the request is refused in its provider's shape before anything goes
 * upstream. The review's cases: 100 credits and `n: 8`, a `previous_response_id`, a budget of 50, a
 * limit field the route does not honour, an unpriced web search, `background: true`.
 */
describe('gateway: the hold bounds every request', () => {
  let h: GatewayHarness;
  let rich: FixtureUser;
  let richKey: string;
  let poor: FixtureUser;
  let poorKey: string;
  /** A model whose rule names a context window and prices no web search. */
  let windowed: string;
  const messages = [{ role: 'user', content: 'Say hello' }];
  const inputBound = Buffer.byteLength('rolecontentuserSay hello');

  beforeAll(async () => {
    h = await startGateway();
    windowed = await otherModel(h, 'windowed', { contextWindow: 200_000 });
    rich = await h.f.newUser({ credits: 1_000_000 });
    richKey = (await h.f.apiKey(rich, { permissions: ['gateway'] })).key;
    poor = await h.f.newUser({ credits: 100 });
    poorKey = (await h.f.apiKey(poor, { permissions: ['gateway'] })).key;
  });
  afterAll(() => h.close());
  afterEach(async () => {
    h.standIn.kinds = null;
    await expectInvariants(h.t, h.users);
  });

  const send = (path: string, key: string, body: Record<string, unknown>, headers: Record<string, string> = {}) => {
    const id = `gw-bound-${randomUUID()}`;
    const response = fetch(`${h.origin}/v1${path}`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${key}`,
        'x-api-key': key,
        'content-type': 'application/json',
        'x-request-id': id,
        ...headers,
      },
      body: JSON.stringify(body),
    });
    return { id, response };
  };
  /** A refusal before the upstream: its status, its code (OpenAI's `code`, Anthropic's message prefix). */
  const refused = async (path: string, key: string, body: Record<string, unknown>, headers = {}) => {
    const before = h.standIn.requests.length;
    const res = await send(path, key, body, headers).response;
    const answer = (await res.json()) as any;
    expect(h.standIn.requests).toHaveLength(before);
    const code = path === '/messages' ? /^([A-Z_]+):/.exec(answer.error.message)?.[1] : answer.error.code;
    return { status: res.status, code, answer };
  };
  const shortfalls = async (userId: string) =>
    (
      await h.t.db.query(
        `SELECT count(*)::int AS n FROM usage_records WHERE user_id = $1 AND (metadata->>'shortfall')::int > 0`,
        [userId],
      )
    ).rows[0].n as number;

  it('holds n choices: 100 credits and n: 8 cannot buy eight answers', async () => {
    // One choice of 2,000 tokens is held within 100 credits; eight are not.
    expect(Math.ceil((estimateOf(inputBound, 2000) * 6) / 5)).toBeLessThanOrEqual(100);
    const body = { model: h.model, messages, max_tokens: 2000 };
    const eight = await refused('/chat/completions', poorKey, { ...body, n: 8 });
    expect(eight).toMatchObject({ status: 402, code: 'INSUFFICIENT_CREDITS' });
    const { id, response } = send('/chat/completions', richKey, { ...body, n: 8 });
    expect((await response).status).toBe(200);
    expect(await heldOf(h, id)).toMatchObject({ input: inputBound, output: 16_000 });
    const nine = await refused('/chat/completions', richKey, { ...body, n: 9 });
    expect(nine).toMatchObject({ status: 400, code: 'VALIDATION' });
    expect(nine.answer.error.message).toMatch(/n must be an integer from 1 to 8/);
    expect(await shortfalls(poor.id)).toBe(0);
  });

  it('holds input the body does not contain at the context window, and refuses it without one', async () => {
    const body = { input: 'And then?', previous_response_id: 'resp_123', max_output_tokens: 10 };
    const none = await refused('/responses', richKey, { ...body, model: h.model });
    expect(none).toMatchObject({ status: 400, code: 'UNBOUNDED_INPUT' });
    // 100 credits cannot hold a 200,000-token context: the 8,008 of the review are never bought.
    const poorOne = await refused('/responses', poorKey, { ...body, model: windowed });
    expect(poorOne).toMatchObject({ status: 402, code: 'INSUFFICIENT_CREDITS' });
    const { id, response } = send('/responses', richKey, { ...body, model: windowed });
    expect((await response).status).toBe(200);
    expect(await heldOf(h, id)).toMatchObject({ input: 200_000, output: 10 });
    const image = {
      model: h.model,
      max_tokens: 10,
      messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'url', url: 'https://x.test/a.png' } }] }],
    };
    const anthropic = await refused('/messages', richKey, image);
    expect(anthropic).toMatchObject({ status: 400, code: 'UNBOUNDED_INPUT' });
    expect(anthropic.answer).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
  });

  it('lets no budget of 50 through a request whose hold is more', async () => {
    const project = uniqueId('fifty').toLowerCase();
    const res = await h.t.http
      .post('/api/budgets')
      .set(rich.auth)
      .send({ budgetId: project, scope: { kind: 'project', id: project }, limitCredits: 50 });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const scopes = { 'x-budget-scopes': `project=${project}` };
    const body = { model: h.model, messages, max_tokens: 1000, n: 8 };
    expect(await refused('/chat/completions', richKey, body, scopes)).toMatchObject({
      status: 402,
      code: 'BUDGET_EXCEEDED',
    });
    const windowedBody = { model: windowed, input: 'x', conversation: 'conv_1', max_output_tokens: 1 };
    expect(await refused('/responses', richKey, windowedBody, scopes)).toMatchObject({
      status: 402,
      code: 'BUDGET_EXCEEDED',
    });
  });

  it('holds the limit the route honours, never one it ignores', async () => {
    const { id, response } = send('/responses', richKey, {
      model: h.model,
      input: 'hi',
      max_tokens: 1,
      max_output_tokens: 100_000,
    });
    expect((await response).status).toBe(200);
    expect((await heldOf(h, id)).output).toBe(100_000);
    const poorOne = await refused('/responses', poorKey, {
      model: h.model,
      input: 'hi',
      max_tokens: 1,
      max_output_tokens: 100_000,
    });
    expect(poorOne).toMatchObject({ status: 402, code: 'INSUFFICIENT_CREDITS' });
    const chat = send('/chat/completions', richKey, { model: h.model, messages, max_output_tokens: 1 });
    expect((await chat.response).status).toBe(200);
    // Chat does not honour max_output_tokens: GATEWAY_MAX_OUTPUT_TOKENS.
    expect((await heldOf(h, chat.id)).output).toBe(4096);
  });

  it('holds web searches at max_uses and refuses one its rule does not price', async () => {
    const tool = { type: 'web_search_20250305', name: 'web_search', max_uses: 4 };
    const body = { max_tokens: 100, messages, tools: [tool] };
    const unpriced = await refused('/messages', richKey, { ...body, model: windowed });
    expect(unpriced).toMatchObject({ status: 400, code: 'UNPRICED_UNIT' });
    // Priced, but search results are input the body does not contain: no window, no hold.
    const unbounded = await refused('/messages', richKey, { ...body, model: h.model });
    expect(unbounded).toMatchObject({ status: 400, code: 'UNBOUNDED_INPUT' });
    const searched = await otherModel(h, 'searched', { contextWindow: 1000, unitPrices: { web_search_call: '3' } });
    const { id, response } = send('/messages', richKey, { ...body, model: searched });
    expect((await response).status).toBe(200);
    expect(await heldOf(h, id)).toMatchObject({ input: 1000, output: 100, units: { web_search_call: 4 } });
    expect((await heldOf(h, id)).estimatedCredits).toBe(estimateOf(1000, 100, 4));
  });

  it('refuses background requests: their usage is not known when the answer ends', async () => {
    const background = await refused('/responses', richKey, { model: h.model, input: 'hi', background: true });
    expect(background).toMatchObject({ status: 400, code: 'UNSUPPORTED_MODE' });
    expect(background.answer.error).toMatchObject({ type: 'invalid_request_error', param: null });
  });
});
