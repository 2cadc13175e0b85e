import { randomUUID } from 'node:crypto';

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { creditsOf, type GatewayHarness, recordOf, startGateway } from './support/gateway.js';
import { expectInvariants } from './support/invariants.js';

const MiB = 1024 * 1024;
/** GATEWAY_MAX_ANSWER_BYTES of this spec's gateway. */
const MAX_ANSWER = 24 * MiB;
/**
 * What the stand-in may have written of an answer nobody reads: the gateway's buffer (1 MiB) plus
 * what the kernel holds in the four socket buffers between the stand-in and the client (loopback
 * buffers grow to a few MiB each: about 10 MiB in all on this machine). An answer held whole is all of it.
 */
const UNREAD_AT_MOST = 20 * MiB;

/**
 * Answers pass through (docs/gateway.md "Answers: passed through, never held whole"): a non-streamed answer is never held whole (the
 * stand-in counts what the gateway pulled from it), a client that reads nothing for
 * GATEWAY_CLIENT_IDLE_SECONDS is gone, an answer over GATEWAY_MAX_ANSWER_BYTES is cut, and the usage
 * at the end of a long answer is still read.
 */
describe('gateway answers: passed through with backpressure', () => {
  let h: GatewayHarness;
  let key: string;
  /** A key whose account can hold an output bound beyond the cap (a streamed answer cut there). */
  let richKey: string;

  beforeAll(async () => {
    h = await startGateway({ GATEWAY_CLIENT_IDLE_SECONDS: '1', GATEWAY_MAX_ANSWER_BYTES: String(MAX_ANSWER) });
    const user = await h.f.newUser({ credits: 1_000_000 });
    key = (await h.f.apiKey(user, { permissions: ['gateway'] })).key;
    const rich = await h.f.newUser({ credits: 5_000_000 });
    richKey = (await h.f.apiKey(rich, { permissions: ['gateway'] })).key;
  });
  afterAll(() => h.close());
  afterEach(async () => {
    h.standIn.largeAnswerBytes = 0;
    h.standIn.kinds = null;
    await expectInvariants(h.t, h.users);
  });

  const embed = (id: string) => {
    h.standIn.large.written = 0;
    h.standIn.large.finished = false;
    return fetch(`${h.origin}/v1/embeddings`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'x-request-id': id },
      body: JSON.stringify({ model: h.model, input: 'hello' }),
    });
  };

  it('a client that never reads a large answer: the gateway stops pulling it, and after the idle time the client is gone', async () => {
    h.standIn.largeAnswerBytes = 48 * MiB;
    const id = `gw-answer-${randomUUID()}`;
    const res = await embed(id);
    expect(res.status).toBe(200);
    // Nothing is read: the settlement comes from GATEWAY_CLIENT_IDLE_SECONDS (1 s), not the answer's end.
    const record = await recordOf(h, id);
    expect(record.metadata.gateway.reason).toBe('client_abort');
    expect(h.standIn.large.finished).toBe(false);
    expect(h.standIn.large.written).toBeLessThan(UNREAD_AT_MOST);
    await res.body?.cancel().catch(() => undefined);
  });

  it('a client that never reads a long stream is gone after the idle time too', async () => {
    h.standIn.largeAnswerBytes = 48 * MiB;
    h.standIn.large.written = 0;
    h.standIn.large.finished = false;
    const id = `gw-answer-${randomUUID()}`;
    const res = await fetch(`${h.origin}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'x-request-id': id },
      body: JSON.stringify({ model: h.model, messages: [{ role: 'user', content: 'hi' }], stream: true }),
    });
    expect(res.status).toBe(200);
    const record = await recordOf(h, id);
    expect(record.metadata.gateway.reason).toBe('client_abort');
    expect(h.standIn.large.finished).toBe(false);
    expect(h.standIn.large.written).toBeLessThan(UNREAD_AT_MOST);
    await res.body?.cancel().catch(() => undefined);
  });

  it('a client that reads a long answer gets every byte, and its usage at the end is read', async () => {
    h.standIn.largeAnswerBytes = 6 * MiB;
    h.standIn.kinds = { input: 1234, cacheRead: 0, cacheWrite: 0, output: 0, reasoning: 0 };
    const id = `gw-answer-${randomUUID()}`;
    const res = await embed(id);
    const text = await res.text();
    expect(res.status).toBe(200);
    expect(text.length).toBe(h.standIn.large.written);
    expect(JSON.parse(text)).toMatchObject({ usage: { prompt_tokens: 1234 } });
    const record = await recordOf(h, id);
    expect(record.metadata.gateway.reason).toBe('reported');
    expect(record.provider_usage).toMatchObject({ usage: { prompt_tokens: 1234 } });
  });

  it('an answer larger than GATEWAY_MAX_ANSWER_BYTES is cut, and settled as an upstream error after output', async () => {
    // Beyond the cap by more than the kernel's socket buffers hold: the rest is never pulled.
    h.standIn.largeAnswerBytes = MAX_ANSWER + 16 * MiB;
    const id = `gw-answer-${randomUUID()}`;
    const res = await embed(id);
    expect(res.status).toBe(200);
    const read = await res.arrayBuffer().then(
      (body) => body.byteLength,
      () => -1,
    );
    // Cut: the body breaks off (or ends short), never the whole answer.
    expect(read).toBeLessThanOrEqual(MAX_ANSWER);
    const record = await recordOf(h, id);
    expect(record.metadata.gateway.reason).toBe('upstream_error');
    expect(h.standIn.large.finished).toBe(false);
  });

  it('a streamed answer larger than GATEWAY_MAX_ANSWER_BYTES is cut, an upstream error charged at least its text', async () => {
    h.standIn.largeAnswerBytes = MAX_ANSWER + 16 * MiB;
    h.standIn.large.written = 0;
    h.standIn.large.finished = false;
    const id = `gw-answer-${randomUUID()}`;
    const messages = [{ role: 'user', content: 'hi' }];
    // An output bound beyond the cap, so what is charged is the text sent, not the bound.
    const res = await fetch(`${h.origin}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${richKey}`, 'content-type': 'application/json', 'x-request-id': id },
      body: JSON.stringify({ model: h.model, messages, stream: true, max_completion_tokens: 26_000_000 }),
    });
    expect(res.status).toBe(200);
    // Read as it comes, counting the text of each whole event the client got.
    let delivered = 0;
    let pending = '';
    let bytes = 0;
    const decoder = new TextDecoder();
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        bytes += chunk.byteLength;
        pending += decoder.decode(chunk, { stream: true });
        const events = pending.split('\n\n');
        pending = events.pop() ?? '';
        for (const event of events) {
          if (!event.startsWith('data: {')) continue;
          const data = JSON.parse(event.slice(6)) as { choices: { delta?: { content?: string } }[] };
          delivered += Buffer.byteLength(data.choices[0]?.delta?.content ?? '');
        }
      }
    } catch {
      // The cut breaks the body off.
    }
    expect(bytes).toBeLessThanOrEqual(MAX_ANSWER);
    expect(delivered).toBeGreaterThan(MAX_ANSWER / 2);
    expect(h.standIn.large.finished).toBe(false);
    const record = await recordOf(h, id);
    expect(record.metadata.gateway.reason).toBe('upstream_error');
    // Never less than the text it delivered: the input bound (the body's text) and every byte sent.
    const input = Buffer.byteLength('rolecontentuserhi');
    expect(record.credits).toBeGreaterThanOrEqual(
      creditsOf({ input, cacheRead: 0, cacheWrite: 0, output: delivered, reasoning: 0 }),
    );
  });
});
