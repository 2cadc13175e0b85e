import { randomUUID } from 'node:crypto';

import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { RECORDINGS } from '../clients/meter/test/recordings.js';
import { ApiKeysService } from '../src/api-keys/api-keys.service.js';
import {
  ANTHROPIC_KEY,
  creditsOf,
  type GatewayHarness,
  OPENAI_KEY,
  recordOf,
  startGateway,
} from './support/gateway.js';
import { expectInvariants } from './support/invariants.js';
import type { Kinds } from './support/provider-stand-in.js';
import { recordSent, type SentStatement } from './support/statements.js';

/**
 * The gateway (docs/gateway.md) driven by the real OpenAI and Anthropic SDKs against a provider
 * stand-in that streams the client kit's recorded answers: each request is charged exactly what its
 * upstream reported, through each route, streamed or not, with one record naming the request.
 */
describe('gateway: the provider APIs, metered', () => {
  let h: GatewayHarness;
  let key: string;
  let openai: OpenAI;
  let anthropic: Anthropic;

  beforeAll(async () => {
    h = await startGateway();
    const user = await h.f.newUser({ credits: 1_000_000 });
    key = (await h.f.apiKey(user, { permissions: ['gateway'] })).key;
    openai = new OpenAI({ apiKey: key, baseURL: `${h.origin}/v1`, maxRetries: 0 });
    anthropic = new Anthropic({ apiKey: key, baseURL: h.origin, maxRetries: 0 });
  });
  afterAll(() => h.close());
  afterEach(async () => {
    h.standIn.mode = 'complete';
    h.standIn.kinds = null;
    h.standIn.anthropicExtra = {};
    await expectInvariants(h.t, h.users);
  });

  const requestId = () => `gw-spec-${randomUUID()}`;
  const messages = [{ role: 'user' as const, content: 'Say hello' }];

  it('streams OpenAI chat without the usage chunk the client did not ask for, and charges the reported usage', async () => {
    const id = requestId();
    const stream = await openai.chat.completions.create(
      { model: h.model, messages, stream: true },
      { headers: { 'x-request-id': id } },
    );
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    // The recording's 9 content chunks, without its usage chunk (choices: [] with usage).
    expect(chunks).toHaveLength(9);
    expect(chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('')).toBe('Hello! How can I help?');
    expect(chunks.every((c) => c.choices.length === 1)).toBe(true);
    const upstream = h.standIn.requests.at(-1)!;
    expect(upstream.body.stream_options).toEqual({ include_usage: true });
    expect(upstream.headers.authorization).toBe(`Bearer ${OPENAI_KEY}`);

    const record = await recordOf(h, id);
    // prompt 2006 with 1920 cached, completion 300 with 192 reasoning.
    expect(record.credits).toBe(creditsOf({ input: 86, cacheRead: 1920, cacheWrite: 0, output: 108, reasoning: 192 }));
    expect(record).toMatchObject({
      service: 'gateway',
      usage_source: 'provider',
      metadata: {
        gateway: { requestId: id, upstream: 'openai', route: '/v1/chat/completions', status: 200, reason: 'reported' },
      },
    });
  });

  it('passes the usage chunk on to a client that asked for it, charged the same', async () => {
    const id = requestId();
    const stream = await openai.chat.completions.create(
      { model: h.model, messages, stream: true, stream_options: { include_usage: true } },
      { headers: { 'x-request-id': id } },
    );
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks).toHaveLength(10);
    expect(chunks.at(-1)!.usage).toEqual(RECORDINGS['openai.chat'].usage);
    expect((await recordOf(h, id)).credits).toBe(
      creditsOf({ input: 86, cacheRead: 1920, cacheWrite: 0, output: 108, reasoning: 192 }),
    );
  });

  it('answers a non-streamed request byte for byte, with its x-request-id', async () => {
    const id = requestId();
    const res = await fetch(`${h.origin}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'x-request-id': id },
      body: JSON.stringify({ model: h.model, messages }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-request-id')).toBe(id);
    expect(await res.text()).toBe(JSON.stringify(h.standIn.answerBody('/v1/chat/completions', {})));
    expect((await recordOf(h, id)).credits).toBe(
      creditsOf({ input: 86, cacheRead: 1920, cacheWrite: 0, output: 108, reasoning: 192 }),
    );
  });

  it('looks a key up at its first request only: a later one sends its hold and no lookup', async () => {
    const fresh = (await h.f.apiKey(await h.f.newUser({ credits: 100_000 }), { permissions: ['gateway'] })).key;
    const chat = async () => {
      const res = await fetch(`${h.origin}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${fresh}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: h.model, messages }),
      });
      expect(res.status).toBe(200);
      await res.text();
    };
    const named = (sent: SentStatement[], label: string) => sent.filter((s) => s.name?.startsWith(label)).length;
    const first = await recordSent(chat);
    expect(named(first.sent, 'api_key_authentication')).toBe(1);
    expect(named(first.sent, 'streaming_session_with_hold_if')).toBe(1);
    // The first use's last_used write is not this request's.
    await h.t.app.get(ApiKeysService).touchesSettled();
    const later = await recordSent(chat);
    expect(named(later.sent, 'api_key_authentication')).toBe(0);
    expect(named(later.sent, 'streaming_session_with_hold_if')).toBe(1);
  });

  it('charges the Responses API from response.completed and from response.incomplete', async () => {
    for (const mode of ['complete', 'incomplete'] as const) {
      h.standIn.mode = mode;
      const id = requestId();
      const stream = await openai.responses.create(
        { model: h.model, input: 'Say hi', stream: true },
        { headers: { 'x-request-id': id } },
      );
      const types: string[] = [];
      for await (const event of stream) types.push(event.type);
      expect(types.at(-1)).toBe(mode === 'complete' ? 'response.completed' : 'response.incomplete');
      const record = await recordOf(h, id);
      // input 1200 with 1024 cached, output 300 with 128 reasoning.
      expect(record.credits).toBe(
        creditsOf({ input: 176, cacheRead: 1024, cacheWrite: 0, output: 172, reasoning: 128 }),
      );
      expect(record.metadata.gateway.reason).toBe('reported');
    }
  });

  it('charges an Anthropic stream its cache reads and writes and its web searches, with the provider key as x-api-key', async () => {
    h.standIn.anthropicExtra = { server_tool_use: { web_search_requests: 2 } };
    const id = requestId();
    const stream = anthropic.messages.stream(
      { model: h.model, max_tokens: 1024, messages },
      { headers: { 'x-request-id': id } },
    );
    const message = await stream.finalMessage();
    expect(message.usage.output_tokens).toBe(300);
    expect(h.standIn.requests.at(-1)!.headers['x-api-key']).toBe(ANTHROPIC_KEY);
    const record = await recordOf(h, id);
    // input 50, cache writes 1000, cache reads 2000, output 300, and 2 searches.
    expect(record.credits).toBe(
      creditsOf({ input: 50, cacheRead: 2000, cacheWrite: 1000, output: 300, reasoning: 0 }, 2),
    );
    expect(record.metadata.gateway).toMatchObject({ upstream: 'anthropic', route: '/v1/messages', reason: 'reported' });
  });

  it('costs the same usage the same through chat, responses and messages, streamed or not', async () => {
    const kinds: Kinds = { input: 1234, cacheRead: 0, cacheWrite: 0, output: 567, reasoning: 0 };
    h.standIn.kinds = kinds;
    const ids: string[] = [];
    const headers = () => {
      ids.push(requestId());
      return { headers: { 'x-request-id': ids.at(-1)! } };
    };
    for (const stream of [false, true]) {
      if (stream) {
        for await (const _ of await openai.chat.completions.create({ model: h.model, messages, stream }, headers()));
        for await (const _ of await openai.responses.create({ model: h.model, input: 'hi', stream }, headers()));
        await anthropic.messages.stream({ model: h.model, max_tokens: 1000, messages }, headers()).finalMessage();
      } else {
        await openai.chat.completions.create({ model: h.model, messages }, headers());
        await openai.responses.create({ model: h.model, input: 'hi' }, headers());
        await anthropic.messages.create({ model: h.model, max_tokens: 1000, messages }, headers());
      }
    }
    const credits = [];
    for (const id of ids) credits.push((await recordOf(h, id)).credits);
    expect(credits).toEqual(Array(6).fill(creditsOf(kinds)));
  });

  it('meters embeddings from their prompt tokens', async () => {
    h.standIn.kinds = { input: 4000, cacheRead: 0, cacheWrite: 0, output: 0, reasoning: 0 };
    const id = requestId();
    const answer = await openai.embeddings.create(
      { model: h.model, input: 'hello' },
      { headers: { 'x-request-id': id } },
    );
    expect(answer.data).toHaveLength(1);
    expect((await recordOf(h, id)).credits).toBe(creditsOf(h.standIn.kinds));
  });

  it('lists the models the key may use in OpenAI’s list shape', async () => {
    const list = await openai.models.list();
    expect(list.data.map((m) => m.id)).toContain(h.model);
  });
});
