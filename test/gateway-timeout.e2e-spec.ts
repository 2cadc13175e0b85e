import { randomUUID } from 'node:crypto';

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { type GatewayHarness, PRICES, recordOf, startGateway } from './support/gateway.js';
import { expectInvariants } from './support/invariants.js';
import { until } from './support/until.js';

/**
 * GATEWAY_UPSTREAM_TIMEOUT_SECONDS (docs/gateway.md): an upstream that does not answer in time is
 * cancelled and answered 502 UPSTREAM_TIMEOUT in the provider's shape, charged 0 before any output
 * and as a cut-off request after some; the session was opened to expire the timeout plus a minute
 * after it started; the request id names the request in its log line.
 */
describe('gateway: the upstream timeout', () => {
  let h: GatewayHarness;
  let key: string;
  const messages = [{ role: 'user', content: 'Say hello' }];
  const inputBound = Buffer.byteLength('rolecontentuserSay hello');

  beforeAll(async () => {
    h = await startGateway({ GATEWAY_UPSTREAM_TIMEOUT_SECONDS: '1' });
    const user = await h.f.newUser({ credits: 1_000_000 });
    key = (await h.f.apiKey(user, { permissions: ['gateway'] })).key;
  });
  afterAll(() => h.close());
  afterEach(async () => {
    h.standIn.mode = 'complete';
    h.standIn.delayMs = 0;
    await expectInvariants(h.t, h.users);
  });

  const send = (id: string, body: Record<string, unknown>) =>
    fetch(`${h.origin}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'x-request-id': id },
      body: JSON.stringify({ model: h.model, messages, max_tokens: 500, ...body }),
    });

  it('answers 502 UPSTREAM_TIMEOUT before any output, charging 0, the upstream cancelled', async () => {
    // The stand-in answers after 5 s; the gateway gives up after 1.
    h.standIn.delayMs = 5000;
    const id = `gw-timeout-${randomUUID()}`;
    const started = Date.now();
    const res = await send(id, {});
    expect(res.status).toBe(502);
    expect(await res.json()).toMatchObject({ error: { code: 'UPSTREAM_TIMEOUT', type: expect.any(String) } });
    expect(Date.now() - started).toBeLessThan(4000);
    const upstream = h.standIn.requests.at(-1)!;
    await until('the upstream request is cancelled', () => upstream.cancelledAt !== null, 2000);

    const record = await recordOf(h, id);
    expect(record).toMatchObject({ credits: 0, metadata: { gateway: { reason: 'upstream_error', status: 502 } } });
    const { rows } = await h.t.db.query<{ ttl: number }>(
      `SELECT extract(epoch FROM expires_at - started_at)::int AS ttl FROM streaming_sessions WHERE session_id = $1`,
      [record.metadata.sessionId],
    );
    expect(rows).toEqual([{ ttl: 61 }]);
    // Its log line names it.
    expect(h.t.logs.some((line) => line.includes('gateway request') && line.includes(id))).toBe(true);
  });

  it('charges a stream that timed out after some output as one cut off', async () => {
    h.standIn.mode = 'hang';
    const id = `gw-timeout-${randomUUID()}`;
    const res = await send(id, { stream: true });
    expect(res.status).toBe(200);
    await res.text().catch(() => '');
    const record = await recordOf(h, id);
    expect(record.metadata.gateway.reason).toBe('upstream_error');
    expect(h.standIn.requests.at(-1)!.cancelledAt).not.toBeNull();
    expect(record.credits).toBe(
      Math.ceil((inputBound * PRICES.input + Buffer.byteLength('Hello!') * PRICES.output) / 10_000_000),
    );
  });
});
