import { randomUUID } from 'node:crypto';

import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { RECORDINGS } from '../clients/meter/test/recordings.js';
import { SessionExpiryJob } from '../src/streaming-sessions/session-expiry.job.js';
import { expireSessionNow } from './support/clock.js';
import type { FixtureUser } from './support/fixtures.js';
import {
  ANTHROPIC_KEY,
  creditsOf,
  type GatewayHarness,
  holdOf,
  OPENAI_KEY,
  PRICES,
  recordOf,
  startGateway,
} from './support/gateway.js';
import { expectInvariants } from './support/invariants.js';
import { until } from './support/until.js';

/**
 * How a gateway request can end other than completed (docs/gateway.md "Settlement"): the client gone
 * (the upstream cancelled within a second), the upstream failing before or after output, and the
 * provider keys found nowhere afterwards (logs, answers, the database).
 */
const METRICS = 'gateway-metrics-token-0123456789abcdef';

describe('gateway endings', () => {
  let h: GatewayHarness;
  let user: FixtureUser;
  let key: string;
  let openai: OpenAI;
  let anthropic: Anthropic;
  const messages = [{ role: 'user' as const, content: 'Say hello' }];
  /** The input bound of `messages`: the UTF-8 bytes of its keys and strings. */
  const inputBound = Buffer.byteLength('rolecontentuserSay hello');

  beforeAll(async () => {
    h = await startGateway({ METRICS_TOKEN: METRICS });
    user = await h.f.newUser({ credits: 1_000_000 });
    key = (await h.f.apiKey(user, { permissions: ['gateway'] })).key;
    openai = new OpenAI({ apiKey: key, baseURL: `${h.origin}/v1`, maxRetries: 0 });
    anthropic = new Anthropic({ apiKey: key, baseURL: h.origin, maxRetries: 0 });
  });
  afterAll(() => h.close());
  afterEach(async () => {
    h.standIn.mode = 'complete';
    await expectInvariants(h.t, h.users);
  });

  const requestId = () => `gw-end-${randomUUID()}`;

  it('cancels the upstream within a second of the client going, and charges the input bound and the output sent', async () => {
    h.standIn.mode = 'hang';
    const id = requestId();
    const stop = new AbortController();
    const stream = await openai.chat.completions.create(
      { model: h.model, messages, stream: true, max_tokens: 500 },
      { headers: { 'x-request-id': id }, signal: stop.signal },
    );
    const seen: string[] = [];
    for await (const chunk of stream) {
      seen.push(chunk.choices[0]?.delta?.content ?? '');
      if (seen.length === 3) break;
    }
    stop.abort();
    const abortedAt = Date.now();
    const upstream = h.standIn.requests.at(-1)!;
    await until('the upstream sees the cancel', () => upstream.cancelledAt !== null, 1000);
    expect(upstream.cancelledAt! - abortedAt).toBeLessThan(1000);
    const record = await recordOf(h, id);
    expect(record.metadata.gateway.reason).toBe('client_abort');
    // No usage had been reported: the input bound plus the output text sent ('' + 'Hello' + '!').
    expect(record.credits).toBe(
      Math.ceil((inputBound * PRICES.input + Buffer.byteLength('Hello!') * PRICES.output) / 10_000_000),
    );
  });

  it('leaves a request its instance never settles to the expiry, whose record still names it', async () => {
    const account = await h.f.newUser({ credits: 1_000_000 });
    const accountKey = (await h.f.apiKey(account, { permissions: ['gateway'] })).key;
    const client = new OpenAI({ apiKey: accountKey, baseURL: `${h.origin}/v1`, maxRetries: 0 });
    h.standIn.mode = 'hang';
    const id = requestId();
    const stop = new AbortController();
    const stream = await client.chat.completions.create(
      { model: h.model, messages, stream: true, max_tokens: 500 },
      { headers: { 'x-request-id': id }, signal: stop.signal },
    );
    // A failing assertion below must not leave the stream (and the app's close) hanging.
    setTimeout(() => stop.abort(), 30_000).unref();
    // Read without leaving the loop (a break would close the stream): the client stays connected.
    const chunks = stream[Symbol.asyncIterator]();
    while (!(await chunks.next()).value?.choices[0]?.delta?.content);
    // As if the instance had died mid-stream: its session comes due and the expiry job settles it.
    const { rows: open } = await h.t.db.query(
      `SELECT session_id FROM streaming_sessions WHERE user_id = $1 AND status = 'active'`,
      [account.id],
    );
    expect(open).toHaveLength(1);
    await expireSessionNow(h.t.db, open[0].session_id);
    await h.t.app.get(SessionExpiryJob).expireAbandoned();
    const record = await recordOf(h, id);
    expect(record.service).toBe('gateway');
    expect(record.usage_source).toBe('estimated');
    expect(record.metadata.sessionId).toBe(open[0].session_id);
    expect(record.metadata.gateway).toEqual({
      requestId: id,
      upstream: 'openai',
      route: '/v1/chat/completions',
      status: 0,
      reason: 'expired',
    });
    // Charged the worst case it held as its estimate: the input bound at cacheWrite, 500 at reasoning.
    expect(record.credits).toBe(holdOf(inputBound, 500).estimate);
    // The instance's own settlement comes second and moves nothing: still one record.
    stop.abort();
    await until('the instance finds the request settled', () =>
      h.t.logs.some((line) => line.includes(id) && line.includes('the session expiry settles it')),
    );
    const { rows } = await h.t.db.query(`SELECT count(*)::int AS n FROM usage_records WHERE user_id = $1`, [
      account.id,
    ]);
    expect(rows[0].n).toBe(1);
    expect(await h.f.available(account.id)).toBe(1_000_000 - record.credits);
  });

  it('charges a cut-off Anthropic stream the input it reported and the text it sent', async () => {
    h.standIn.mode = 'hang';
    const id = requestId();
    const stream = anthropic.messages.stream(
      { model: h.model, max_tokens: 1000, messages },
      { headers: { 'x-request-id': id } },
    );
    const ended = stream.finalMessage().catch(() => null);
    await new Promise<void>((resolve) => stream.on('text', () => resolve()));
    stream.abort();
    expect(await ended).toBeNull();
    const record = await recordOf(h, id);
    expect(record.metadata.gateway.reason).toBe('client_abort');
    // message_start's usage is input only (50 input, 1000 cache writes, 2000 cache reads), its
    // output_tokens a snapshot before any output; the output is the text sent ('Hello' + '!').
    const output = Buffer.byteLength('Hello!');
    expect(record.credits).toBe(creditsOf({ input: 50, cacheRead: 2000, cacheWrite: 1000, output, reasoning: 0 }));
  });

  it('answers an upstream failure before any output with its status and body, charging 0', async () => {
    h.standIn.mode = 'error';
    const id = requestId();
    const res = await fetch(`${h.origin}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'x-request-id': id },
      body: JSON.stringify({ model: h.model, messages, stream: true }),
    });
    expect(res.status).toBe(RECORDINGS['openai.chat'].error.status);
    expect(await res.text()).toBe(RECORDINGS['openai.chat'].error.body);
    const record = await recordOf(h, id);
    expect(record).toMatchObject({ credits: 0, metadata: { gateway: { reason: 'upstream_error', status: 500 } } });
  });

  it('answers an unreachable upstream with 502 in the provider shape, charging 0', async () => {
    h.standIn.mode = 'refuse';
    const id = requestId();
    const res = await fetch(`${h.origin}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': key, 'content-type': 'application/json', 'x-request-id': id },
      body: JSON.stringify({ model: h.model, max_tokens: 100, messages }),
    });
    expect(res.status).toBe(502);
    expect(await res.json()).toMatchObject({ type: 'error', error: { message: expect.stringMatching(/^UPSTREAM_/) } });
    expect(await recordOf(h, id)).toMatchObject({ credits: 0, metadata: { gateway: { reason: 'upstream_error' } } });
  });

  it('charges a stream the upstream broke after some output as one cut off', async () => {
    h.standIn.mode = 'drop';
    const id = requestId();
    const res = await fetch(`${h.origin}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'x-request-id': id },
      body: JSON.stringify({ model: h.model, messages, stream: true, max_tokens: 500 }),
    });
    expect(res.status).toBe(200);
    await res.text().catch(() => '');
    const record = await recordOf(h, id);
    expect(record.metadata.gateway.reason).toBe('upstream_error');
    expect(record.credits).toBe(
      Math.ceil((inputBound * PRICES.input + Buffer.byteLength('Hello!') * PRICES.output) / 10_000_000),
    );
  });

  it('counts requests, upstream latency, settlements by reason and stage times on /metrics', async () => {
    const res = await h.t.http.get('/metrics').set('Authorization', `Bearer ${METRICS}`);
    expect(res.status).toBe(200);
    // The specs above: one upstream error before output, one after, two client aborts, one unreachable.
    expect(res.text).toMatch(/accounting_gateway_settlements_total\{reason="client_abort"\} 2/);
    expect(res.text).toMatch(/accounting_gateway_settlements_total\{reason="upstream_error"\} 3/);
    expect(res.text).toMatch(
      /accounting_gateway_requests_total\{route="\/v1\/chat\/completions",status="500",outcome="upstream_error"\} 1/,
    );
    expect(res.text).toMatch(/accounting_gateway_upstream_seconds_count\{upstream="openai"\} [1-9]/);
    // Every stage of an admitted request is timed (docs/gateway.md "Added latency").
    for (const stage of ['auth', 'body', 'admission', 'hold', 'upstream', 'passthrough', 'settlement'])
      expect(res.text).toMatch(new RegExp(`accounting_gateway_stage_seconds_count\\{stage="${stage}"\\} [1-9]`));
  });

  it('keeps the provider keys out of the logs and every table', async () => {
    for (const secret of [OPENAI_KEY, ANTHROPIC_KEY]) {
      expect(h.t.logs.filter((line) => line.includes(secret))).toEqual([]);
      const { rows } = await h.t.db.query(
        `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'`,
      );
      for (const { table_name: table } of rows as { table_name: string }[]) {
        const found = await h.t.db.query(`SELECT 1 FROM "${table}" t WHERE t::text LIKE $1 LIMIT 1`, [`%${secret}%`]);
        expect(found.rows, table).toEqual([]);
      }
    }
  });
});
