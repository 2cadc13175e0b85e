import { randomUUID } from 'node:crypto';

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { type GatewayHarness, recordOf, startGateway } from './support/gateway.js';
import { expectInvariants } from './support/invariants.js';

/** The providers' own error bodies (their documented shapes), with the operator's ids and key fragments in them. */
const ORG = 'org-Xq7mB2kLp9RzT4vW1nY8cD3e';
const PROJECT = 'proj_Hk29dLmQ7wXcVb3nRt5y';
const ANTHROPIC_ORG = '8c3c5f02-7d4e-4b1a-9f6e-2a7b9c1d0e53';
const OPENAI_401 = JSON.stringify({
  error: {
    message:
      'Incorrect API key provided: sk-proj-********************************************ab1Z. You can find your API key at https://platform.openai.com/account/api-keys.',
    type: 'invalid_request_error',
    param: null,
    code: 'invalid_api_key',
  },
});
const OPENAI_429 = JSON.stringify({
  error: {
    message: `Rate limit reached for gpt-4o in organization ${ORG} on tokens per min (TPM): Limit 30000, Used 29800, Requested 1200. Please try again in 2.4s.`,
    type: 'tokens',
    param: null,
    code: 'rate_limit_exceeded',
  },
});
const OPENAI_400 = JSON.stringify({
  error: {
    message: `Project ${PROJECT} does not have access to model gpt-4o with the key ending in \u2026ab1Z (sk-svcacct-9fQ2…ab1Z).`,
    type: 'invalid_request_error',
    param: 'model',
    code: 'model_not_found',
  },
});
const ANTHROPIC_403 = JSON.stringify({
  type: 'error',
  error: { type: 'permission_error', message: 'Your API key does not have permission to use the specified resource.' },
  request_id: 'req_011CTHn4f7dLqkz2tXv9wYb5',
});
const ANTHROPIC_429 = JSON.stringify({
  type: 'error',
  error: {
    type: 'rate_limit_error',
    message: `This request would exceed the rate limit for your organization (${ANTHROPIC_ORG}) of 50,000 input tokens per minute. Key sk-ant-api03-Zx9…Qw7A.`,
  },
  request_id: 'req_011CTHn4f7dLqkz2tXv9wYb6',
});
const SECRETS = [ORG, PROJECT, ANTHROPIC_ORG, 'ab1Z', 'Qw7A', 'sk-'];

/**
 * The operator's secrets stay home (docs/gateway.md "What goes upstream, what comes back"): the provider refusing the
 * operator's key is a 502 UPSTREAM_AUTH for the client and a log line for the operator; any other
 * error body passes with the provider organisation and project ids and key fragments removed; only
 * the provider's own request headers go upstream.
 */
describe('gateway: upstream errors and headers', () => {
  let h: GatewayHarness;
  let key: string;

  beforeAll(async () => {
    h = await startGateway({ GATEWAY_ALLOWED_BETAS: 'output-128k-2025-02-19, prompt-caching-2024-07-31' });
    const user = await h.f.newUser({ credits: 1_000_000 });
    key = (await h.f.apiKey(user, { permissions: ['gateway'] })).key;
  });
  afterAll(() => h.close());
  afterEach(async () => {
    h.standIn.errorAnswer = null;
    await expectInvariants(h.t, h.users);
  });

  const chat = (id: string) =>
    fetch(`${h.origin}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'x-request-id': id },
      body: JSON.stringify({ model: h.model, messages: [{ role: 'user', content: 'hi' }], max_tokens: 50 }),
    });
  const messages = (id: string, headers: Record<string, string> = {}) =>
    fetch(`${h.origin}/v1/messages`, {
      method: 'POST',
      headers: {
        'x-api-key': key,
        'content-type': 'application/json',
        'anthropic-version': '2023-06-01',
        'x-request-id': id,
        ...headers,
      },
      body: JSON.stringify({ model: h.model, max_tokens: 50, messages: [{ role: 'user', content: 'hi' }] }),
    });
  const expectNoSecret = (text: string) => {
    for (const secret of SECRETS) expect(text).not.toContain(secret);
  };

  it('the provider refusing the operator key (401, 403) is a 502 UPSTREAM_AUTH, logged, charged 0', async () => {
    h.standIn.errorAnswer = { status: 401, body: OPENAI_401 };
    const id = `gw-err-${randomUUID()}`;
    const res = await chat(id);
    const text = await res.text();
    expect(res.status).toBe(502);
    expect(JSON.parse(text)).toMatchObject({ error: { code: 'UPSTREAM_AUTH', type: expect.any(String) } });
    expectNoSecret(text);
    expect(text).not.toContain('invalid_api_key');
    expect(await recordOf(h, id)).toMatchObject({
      credits: 0,
      metadata: { gateway: { reason: 'upstream_error', status: 502 } },
    });
    expect(
      h.t.logs.some(
        (line) => line.includes('UPSTREAM_AUTH') && line.includes(id) && line.includes('"upstreamStatus":401'),
      ),
    ).toBe(true);

    h.standIn.errorAnswer = { status: 403, body: ANTHROPIC_403 };
    const other = `gw-err-${randomUUID()}`;
    const anthropic = await messages(other);
    expect(anthropic.status).toBe(502);
    expect(await anthropic.json()).toMatchObject({
      type: 'error',
      error: { type: expect.any(String), message: expect.stringMatching(/^UPSTREAM_AUTH: /) },
    });
    expect((await recordOf(h, other)).credits).toBe(0);
  });

  it('other error bodies pass with the provider organisation, project and key fragments removed', async () => {
    for (const [status, body, send] of [
      [429, OPENAI_429, chat],
      [400, OPENAI_400, chat],
      [429, ANTHROPIC_429, messages],
    ] as const) {
      h.standIn.errorAnswer = { status, body };
      const id = `gw-err-${randomUUID()}`;
      const res = await send(id);
      const text = await res.text();
      expect(res.status).toBe(status);
      expectNoSecret(text);
      // The rest of the provider's answer is as it wrote it.
      const answer = JSON.parse(text) as { error: { message: string; type: string } };
      const original = JSON.parse(body) as { error: { message: string; type: string } };
      expect(answer.error.type).toBe(original.error.type);
      expect(answer.error.message.split(' ')[0]).toBe(original.error.message.split(' ')[0]);
      expect(answer.error.message).toContain('[redacted]');
      expect((await recordOf(h, id)).credits).toBe(0);
    }
    expect(h.t.logs.some((line) => SECRETS.slice(0, 3).some((secret) => line.includes(secret)))).toBe(false);
  });

  it('passes upstream only the provider headers, and of anthropic-beta only the allowed values', async () => {
    const id = `gw-err-${randomUUID()}`;
    const res = await messages(id, {
      'anthropic-beta': 'files-api-2025-04-14,output-128k-2025-02-19',
      cookie: 'session=secret',
      'x-stainless-os': 'Linux',
      'x-forwarded-for': '203.0.113.9',
      'x-custom': 'anything',
      'user-agent': 'my-client/1.0',
    });
    expect(res.status).toBe(200);
    await res.text();
    const seen = h.standIn.requests.at(-1)!.headers;
    expect(seen['anthropic-version']).toBe('2023-06-01');
    expect(seen['anthropic-beta']).toBe('output-128k-2025-02-19');
    for (const name of ['cookie', 'x-stainless-os', 'x-forwarded-for', 'x-custom', 'x-request-id'])
      expect(seen[name]).toBeUndefined();
    expect(seen['user-agent'] ?? '').not.toContain('my-client');

    // No allowed value left: no header at all.
    await (await messages(`gw-err-${randomUUID()}`, { 'anthropic-beta': 'files-api-2025-04-14' })).text();
    expect(h.standIn.requests.at(-1)!.headers['anthropic-beta']).toBeUndefined();

    const chatId = `gw-err-${randomUUID()}`;
    await (
      await fetch(`${h.origin}/v1/chat/completions`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${key}`,
          'content-type': 'application/json',
          'openai-beta': 'assistants=v2',
          'openai-organization': 'org-client',
          'x-request-id': chatId,
        },
        body: JSON.stringify({ model: h.model, messages: [{ role: 'user', content: 'hi' }] }),
      })
    ).text();
    const chatSeen = h.standIn.requests.at(-1)!.headers;
    expect(chatSeen['openai-beta']).toBe('assistants=v2');
    expect(chatSeen['openai-organization']).toBeUndefined();
  });
});
