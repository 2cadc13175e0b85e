import { randomUUID } from 'node:crypto';

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { creditsOf, type GatewayHarness, recordOf, startGateway } from './support/gateway.js';
import { heldOf, otherModel } from './support/gateway-holds.js';
import { expectInvariants } from './support/invariants.js';

/** GATEWAY_MAX_TOOL_USES of this spec's gateway: what a chat completion's searches are held and charged at. */
const SEARCHES = 2;
const WINDOW = 1000;

/**
 * Chat completions' web searches (docs/gateway.md "Settlement"): a request with `web_search_options`
 * is held at GATEWAY_MAX_TOOL_USES searches, and since neither the answer nor its usage counts them,
 * it is charged the searches it held, whether its usage is reported or the stream is cut after output.
 */
describe('gateway: chat completions web searches are charged', () => {
  let h: GatewayHarness;
  let key: string;
  let model: string;
  const kinds = { input: 100, cacheRead: 0, cacheWrite: 0, output: 50, reasoning: 0 };

  beforeAll(async () => {
    h = await startGateway({ GATEWAY_MAX_TOOL_USES: String(SEARCHES) });
    model = await otherModel(h, 'search', { contextWindow: WINDOW, unitPrices: { web_search_call: '3' } });
    const user = await h.f.newUser({ credits: 1_000_000 });
    key = (await h.f.apiKey(user, { permissions: ['gateway'] })).key;
  });
  afterAll(() => h.close());
  afterEach(async () => {
    h.standIn.mode = 'complete';
    h.standIn.padding = [];
    h.standIn.kinds = null;
    await expectInvariants(h.t, h.users);
  });

  const chat = (id: string, body: Record<string, unknown>) =>
    fetch(`${h.origin}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'x-request-id': id },
      body: JSON.stringify({ model, messages: [{ role: 'user', content: 'Search the news' }], ...body }),
    });

  it('an answer with its usage: the tokens reported and the searches held', async () => {
    h.standIn.kinds = kinds;
    const id = `gw-search-${randomUUID()}`;
    const res = await chat(id, { web_search_options: {} });
    expect(res.status, await res.clone().text()).toBe(200);
    await res.text();
    const record = await recordOf(h, id);
    expect(record.metadata.gateway.reason).toBe('reported');
    expect((await heldOf(h, id)).units).toEqual({ web_search_call: SEARCHES });
    expect(record.credits).toBe(creditsOf(kinds, SEARCHES));
    // The same answer without web_search_options pays no search.
    const plain = `gw-search-${randomUUID()}`;
    await (await chat(plain, {})).text();
    expect((await recordOf(h, plain)).credits).toBe(creditsOf(kinds));
  });

  it('a stream the upstream broke after output: the input bound, the text sent and the searches held', async () => {
    h.standIn.mode = 'drop';
    h.standIn.padding = Array.from({ length: 20 }, (_, i) => `${i} ${'y'.repeat(98)}`);
    const id = `gw-search-${randomUUID()}`;
    const res = await chat(id, { web_search_options: {}, stream: true, max_completion_tokens: 20_000 });
    expect(res.status).toBe(200);
    const text = await res.text().catch(() => '');
    let delivered = 0;
    for (const line of text.split('\n'))
      if (line.startsWith('data: {')) {
        const chunk = JSON.parse(line.slice(6)) as { choices?: { delta?: { content?: string } }[] };
        delivered += Buffer.byteLength(chunk.choices?.[0]?.delta?.content ?? '');
      }
    expect(delivered).toBeGreaterThanOrEqual(2000);
    const record = await recordOf(h, id);
    expect(record.metadata.gateway.reason).toBe('upstream_error');
    const cut = { input: WINDOW, cacheRead: 0, cacheWrite: 0, output: delivered, reasoning: 0 };
    expect(record.credits).toBe(creditsOf(cut, SEARCHES));
  });
});
