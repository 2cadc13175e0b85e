import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { type GatewayHarness, startGateway } from './support/gateway.js';

const LIMIT = 5;
const badKey = (fill: number) => `acs_live_${Buffer.alloc(32, fill).toString('base64url')}`;

/**
 * Wrong keys on the provider routes count against the same per-address throttle as `/api`
 * (THROTTLE_AUTH_FAILURE_LIMIT, docs/gateway.md "Who"): once an address reaches it, every request
 * from it presenting a key, the right one too, is a 429 in the provider's shape, with Retry-After,
 * and nothing reaches the upstream.
 */
describe('gateway: failed keys are throttled as on /api', () => {
  let h: GatewayHarness;
  let key: string;

  beforeAll(async () => {
    h = await startGateway({ THROTTLE_AUTH_FAILURE_LIMIT: String(LIMIT) });
    const user = await h.f.newUser({ credits: 100_000 });
    key = (await h.f.apiKey(user, { permissions: ['gateway'] })).key;
  });
  afterAll(() => h.close());

  const chat = (apiKey: string) =>
    fetch(`${h.origin}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: h.model, messages: [{ role: 'user', content: 'hi' }] }),
    });
  const messages = (apiKey: string) =>
    fetch(`${h.origin}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': apiKey, 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
      body: JSON.stringify({ model: h.model, max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }),
    });

  it('wrong keys on /api and /v1 share one window; then every key from the address is a 429', async () => {
    const before = h.standIn.requests.length;
    // Two wrong keys on /api, the rest on /v1 (both of its shapes, and GET /v1/models).
    for (let i = 0; i < 2; i++) await h.t.http.get('/api/users/me').set('X-API-Key', badKey(i)).expect(401);
    expect((await chat(badKey(2))).status).toBe(401);
    expect((await messages(badKey(3))).status).toBe(401);
    expect((await fetch(`${h.origin}/v1/models`, { headers: { authorization: `Bearer ${badKey(4)}` } })).status).toBe(
      401,
    );

    const blocked = await chat(badKey(5));
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await blocked.json()).toMatchObject({ error: { code: 'AUTH_THROTTLED', type: 'rate_limit_error' } });
    // The right key too, in either shape: a guesser learns nothing from the one answer that is not a 429.
    const right = await messages(key);
    expect(right.status).toBe(429);
    expect(await right.json()).toMatchObject({
      type: 'error',
      error: { type: 'rate_limit_error', message: expect.stringMatching(/^AUTH_THROTTLED: /) },
    });
    expect((await chat(key)).status).toBe(429);
    // And /api from the same address.
    await h.t.http.get('/api/users/me').set('X-API-Key', badKey(6)).expect(429);
    expect(h.standIn.requests).toHaveLength(before);
  });
});
