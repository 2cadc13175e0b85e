import { randomUUID } from 'node:crypto';

import Anthropic from '@anthropic-ai/sdk';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import type { FixtureUser } from './support/fixtures.js';
import { creditsOf, type GatewayHarness, holdOf, recordOf, startGateway } from './support/gateway.js';
import { expectInvariants } from './support/invariants.js';

/**
 * Settlement without the final usage (docs/gateway.md "Settlement"): a start-of-stream usage reports
 * input only, the output is the larger of the reported and the text passed to the client, and a 2xx
 * answer without usage is charged the worst case it held. A stream cut at any byte never pays less
 * than the text it delivered.
 */
describe('gateway: answers without their final usage', () => {
  let h: GatewayHarness;
  let user: FixtureUser;
  let key: string;
  let anthropic: Anthropic;
  const messages = [{ role: 'user' as const, content: 'Say hello' }];
  const inputBound = Buffer.byteLength('rolecontentuserSay hello');
  /** 10,000 bytes of text beyond the recording's, in 100 events. */
  const padding = Array.from({ length: 100 }, (_, i) => `${String(i).padStart(3, '0')}${'x'.repeat(97)}`);
  /** The Anthropic recording's message_start input: 50 input, 2000 cache reads, 1000 cache writes. */
  const started = { input: 50, cacheRead: 2000, cacheWrite: 1000, reasoning: 0 };

  beforeAll(async () => {
    h = await startGateway();
    user = await h.f.newUser({ credits: 1_000_000 });
    key = (await h.f.apiKey(user, { permissions: ['gateway'] })).key;
    anthropic = new Anthropic({ apiKey: key, baseURL: h.origin, maxRetries: 0 });
  });
  afterAll(() => h.close());
  afterEach(async () => {
    h.standIn.mode = 'complete';
    h.standIn.padding = [];
    h.standIn.noUsage = false;
    await expectInvariants(h.t, h.users);
  });

  const requestId = () => `gw-cut-${randomUUID()}`;

  it('charges an Anthropic stream its client left after 7,000 bytes at least those bytes, not message_start’s 1', async () => {
    h.standIn.mode = 'hang';
    h.standIn.padding = padding;
    const id = requestId();
    const stream = anthropic.messages.stream(
      { model: h.model, max_tokens: 20_000, messages },
      { headers: { 'x-request-id': id } },
    );
    const ended = stream.finalMessage().catch(() => null);
    let read = 0;
    await new Promise<void>((resolve) =>
      stream.on('text', (text) => {
        read += Buffer.byteLength(text);
        if (read >= 7000) resolve();
      }),
    );
    stream.abort();
    expect(await ended).toBeNull();
    const record = await recordOf(h, id);
    expect(record.metadata.gateway.reason).toBe('client_abort');
    expect(record.credits).toBeGreaterThanOrEqual(creditsOf({ ...started, output: read }));
    // The same answer read to the end costs its reported usage; a cut one never costs less than its text.
    expect(record.credits).toBeGreaterThan(creditsOf({ ...started, output: 1 }) + 100);
  });

  it('charges an Anthropic stream the upstream broke after output its input and the text sent', async () => {
    h.standIn.mode = 'drop';
    h.standIn.padding = padding;
    const id = requestId();
    const res = await fetch(`${h.origin}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': key, 'content-type': 'application/json', 'x-request-id': id },
      body: JSON.stringify({ model: h.model, max_tokens: 20_000, stream: true, messages }),
    });
    expect(res.status).toBe(200);
    await res.text().catch(() => '');
    const record = await recordOf(h, id);
    expect(record.metadata.gateway.reason).toBe('upstream_error');
    const text = Buffer.byteLength('Hello!') + padding.join('').length;
    expect(record.credits).toBe(creditsOf({ ...started, output: text }));
  });

  it('charges the text sent at most the output bound', async () => {
    h.standIn.mode = 'drop';
    h.standIn.padding = padding;
    const id = requestId();
    const res = await fetch(`${h.origin}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': key, 'content-type': 'application/json', 'x-request-id': id },
      body: JSON.stringify({ model: h.model, max_tokens: 300, stream: true, messages }),
    });
    await res.text().catch(() => '');
    const record = await recordOf(h, id);
    expect(record.credits).toBe(creditsOf({ ...started, output: 300 }));
  });

  it('charges a 2xx answer without usage the worst case it held, as estimated', async () => {
    h.standIn.noUsage = true;
    const id = requestId();
    const res = await fetch(`${h.origin}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': key, 'content-type': 'application/json', 'x-request-id': id },
      body: JSON.stringify({ model: h.model, max_tokens: 400, messages }),
    });
    expect(res.status).toBe(200);
    await res.text();
    const record = await recordOf(h, id);
    expect(record.usage_source).toBe('estimated');
    expect(record.credits).toBe(holdOf(inputBound, 400).estimate);
  });
});
