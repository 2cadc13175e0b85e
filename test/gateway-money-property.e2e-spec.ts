import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';

import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startTestApp, type TestApp } from './support/app.js';
import type { FixtureUser } from './support/fixtures.js';
import { creditsOf, type GatewayHarness, recordOf, startGateway, WEB_SEARCH_PRICE } from './support/gateway.js';
import { heldOf, otherModel } from './support/gateway-holds.js';
import { expectInvariants } from './support/invariants.js';
import type { Kinds, Mode } from './support/provider-stand-in.js';

/**
 * The gateway's money as a property (docs/gateway.md "Settlement"): random requests (each route,
 * streamed or not, `n`, web searches, clients leaving at random bytes, upstreams failing before or
 * after output, answers without usage) through two instances on one database, against a stand-in
 * that reports the true usage (one token a byte of text, the worst a tokenizer does). Every request is
 * charged at least the provider's bill for what it delivered and at most its hold; Σ charged ≤ Σ held
 * per account. GATEWAY_PROPERTY_REQUESTS sets how many (default 200; 10,000 at scale).
 */
const REQUESTS = Number(process.env.GATEWAY_PROPERTY_REQUESTS ?? 200);
const ROUTES = ['/chat/completions', '/responses', '/messages'] as const;
type Route = (typeof ROUTES)[number];
/** The recordings' own text, which the stand-in sends besides the padding. */
const RECORDED_TEXT: Record<Route, string> = {
  '/chat/completions': 'Hello! How can I help?',
  '/responses': 'Hi there! How can I assist you today?',
  '/messages': 'Hello! How can I help?',
};
/** Input tokens the stand-in reports: within the smallest input bound of the bodies sent (`hi`: 2 bytes). */
const INPUT_TOKENS = 2;

interface Case {
  route: Route;
  stream: boolean;
  n: number;
  chunks: number;
  searches: number;
  mode: Mode | 'no_usage';
  /** Of the streamed bytes, where the client leaves (a fraction), when it leaves. */
  cutAt: number | null;
  account: number;
  instance: number;
}

/** The text of the events in `raw` that arrived whole (what the client received of the answer). */
function textOf(raw: string): number {
  let bytes = 0;
  for (const block of raw.split('\n\n').slice(0, -1)) {
    const data = block
      .split('\n')
      .find((line) => line.startsWith('data: '))
      ?.slice(6);
    if (!data || data === '[DONE]') continue;
    const d = JSON.parse(data) as Record<string, any>;
    const text =
      d.choices?.[0]?.delta?.content ?? (d.type === 'response.output_text.delta' ? d.delta : d.delta?.text) ?? '';
    bytes += Buffer.byteLength(typeof text === 'string' ? text : '', 'utf8');
  }
  return bytes;
}

describe('gateway money, as a property', () => {
  let h: GatewayHarness;
  let second: TestApp;
  const origins: string[] = [];
  const accounts: { user: FixtureUser; key: string }[] = [];
  let model: string;

  beforeAll(async () => {
    h = await startGateway();
    model = await otherModel(h, 'money', {
      contextWindow: 2000,
      unitPrices: { web_search_call: String(WEB_SEARCH_PRICE) },
    });
    // The second instance on the same database starts once the rule exists (its cache reads it).
    second = await startTestApp({ ...h.env, METERING_TRUST: 'service' });
    origins.push(h.origin, `http://127.0.0.1:${(second.app.getHttpServer().address() as AddressInfo).port}`);
    for (let i = 0; i < 3; i++) {
      const user = await h.f.newUser({ credits: 50_000_000 });
      accounts.push({ user, key: (await h.f.apiKey(user, { permissions: ['gateway'] })).key });
    }
  }, 120_000);
  afterAll(async () => {
    await second?.close();
    await h?.close();
  });

  const cases = fc.record<Case>({
    route: fc.constantFrom(...ROUTES),
    stream: fc.boolean(),
    n: fc.integer({ min: 1, max: 3 }),
    chunks: fc.integer({ min: 0, max: 40 }),
    searches: fc.integer({ min: 0, max: 3 }),
    mode: fc.constantFrom<Case['mode']>('complete', 'complete', 'drop', 'hang', 'error', 'no_usage'),
    cutAt: fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { nil: null }),
    account: fc.integer({ min: 0, max: 2 }),
    instance: fc.integer({ min: 0, max: 1 }),
  });

  /** One request as the case says; answers what the client received of the answer's text. */
  async function run(c: Case, id: string): Promise<number> {
    const { key } = accounts[c.account];
    const maxTokens = 5000;
    const messages = [{ role: 'user', content: 'hi' }];
    const searching = c.route === '/messages' && c.searches > 0;
    const body: Record<string, unknown> = {
      model,
      stream: c.stream,
      ...(c.route === '/responses'
        ? { input: 'hi', max_output_tokens: maxTokens }
        : { messages, max_tokens: maxTokens }),
      ...(c.route === '/chat/completions' ? { n: c.n } : {}),
      ...(searching ? { tools: [{ type: 'web_search_20250305', name: 'web_search', max_uses: c.searches }] } : {}),
    };
    const stop = new AbortController();
    const res = await fetch(`${origins[c.instance]}/v1${c.route}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'x-request-id': id },
      body: JSON.stringify(body),
      signal: stop.signal,
    });
    if (!c.stream || res.status !== 200) {
      await res.text();
      return 0;
    }
    // Read until the cut (or, when the stand-in hangs, until nothing comes for a while), then leave.
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let raw = '';
    const cut = c.cutAt === null ? Infinity : Math.floor(c.cutAt * 6000);
    for (;;) {
      const next = await Promise.race([
        reader.read(),
        new Promise<null>((resolve) => setTimeout(() => resolve(null), c.mode === 'hang' ? 300 : 5000)),
      ]).catch(() => null);
      if (next === null || next.done) break;
      raw += decoder.decode(next.value, { stream: true });
      if (Buffer.byteLength(raw) >= cut) break;
    }
    stop.abort();
    await reader.cancel().catch(() => {});
    return textOf(raw);
  }

  it(`charges ${REQUESTS} random requests at least what they delivered and at most their hold`, async () => {
    const charged = new Map<number, number>();
    const held = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(cases, async (c) => {
        const padding = Array.from({ length: c.chunks }, (_, i) => `${i}:${'é'.repeat(30)}|`);
        const text = Buffer.byteLength(RECORDED_TEXT[c.route] + padding.join(''), 'utf8');
        const usage: Kinds = { input: INPUT_TOKENS, output: text, cacheRead: 0, cacheWrite: 0, reasoning: 0 };
        const searched = c.route === '/messages' ? c.searches : 0;
        h.standIn.mode = c.mode === 'no_usage' ? 'complete' : c.mode;
        h.standIn.noUsage = c.mode === 'no_usage';
        h.standIn.padding = padding;
        h.standIn.kinds = usage;
        h.standIn.anthropicExtra = searched > 0 ? { server_tool_use: { web_search_requests: searched } } : {};
        // A whole non-streamed answer cannot hang: it is sent whole or not at all.
        if (!c.stream && (c.mode === 'hang' || c.mode === 'drop')) h.standIn.mode = 'refuse';
        const id = `gw-prop-${randomUUID()}`;
        const received = await run(c, id);
        const record = await recordOf(h, id);
        const hold = await heldOf(h, id);
        charged.set(c.account, (charged.get(c.account) ?? 0) + record.credits);
        held.set(c.account, (held.get(c.account) ?? 0) + hold.allocatedCredits);
        // Never beyond the hold: the true usage is within every bound.
        expect(record.credits, JSON.stringify(c)).toBeLessThanOrEqual(hold.allocatedCredits);
        const reason = record.metadata.gateway.reason;
        // What the provider bills for what the client got: the whole usage of an answer that reported
        // it, else at least the input and the text received (one token a byte at most).
        const whole = reason === 'reported' || (!c.stream && c.mode === 'no_usage');
        const bill = whole ? creditsOf(usage, searched) : received > 0 ? creditsOf({ ...usage, output: received }) : 0;
        expect(record.credits, `${JSON.stringify(c)} ${reason} received ${received}`).toBeGreaterThanOrEqual(bill);
        if (reason === 'reported') expect(record.credits).toBe(bill);
      }),
      { numRuns: REQUESTS, endOnFailure: true },
    );
    for (const [account, sum] of charged) expect(sum).toBeLessThanOrEqual(held.get(account)!);
    h.standIn.mode = 'complete';
    h.standIn.noUsage = false;
    h.standIn.padding = [];
    await expectInvariants(h.t, h.users);
  }, 1_800_000);
});
