import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { bearer, startTestApp, uniqueId } from './support/app.js';
import { type FixtureUser, tokenFor } from './support/fixtures.js';
import { ANTHROPIC_KEY, type GatewayHarness, holdOf, OPENAI_KEY, startGateway } from './support/gateway.js';
import { expectInvariants } from './support/invariants.js';
import { until } from './support/until.js';

/**
 * Every refusal of the gateway (docs/gateway.md "Who"): in the route's provider shape, with the
 * service's code, and before anything reaches the upstream (the stand-in counts its requests).
 */
describe('gateway refusals', () => {
  let h: GatewayHarness;
  let user: FixtureUser;
  let key: string;
  const answers: string[] = [];

  beforeAll(async () => {
    h = await startGateway();
    user = await h.f.newUser({ credits: 100_000 });
    key = (await h.f.apiKey(user, { permissions: ['gateway'] })).key;
  });
  afterAll(async () => {
    // No provider key in any answer or log line this app wrote.
    for (const secret of [OPENAI_KEY, ANTHROPIC_KEY]) {
      expect(answers.some((a) => a.includes(secret))).toBe(false);
      expect(h.t.logs.some((line) => line.includes(secret))).toBe(false);
    }
    await h.close();
  });
  afterEach(() => expectInvariants(h.t, h.users));

  const chat = (apiKey: string, body: Record<string, unknown> = {}) =>
    fetch(`${h.origin}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: h.model, messages: [{ role: 'user', content: 'hi' }], ...body }),
    });
  const messages = (apiKey: string, body: Record<string, unknown> = {}) =>
    fetch(`${h.origin}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': apiKey, 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
      body: JSON.stringify({ model: h.model, max_tokens: 100, messages: [{ role: 'user', content: 'hi' }], ...body }),
    });

  /** The refusal in OpenAI's shape, and nothing sent upstream. */
  async function expectOpenAIRefusal(res: Response, status: number, code: string, before: number): Promise<void> {
    const text = await res.text();
    answers.push(text);
    expect(res.status, text).toBe(status);
    expect(JSON.parse(text)).toMatchObject({ error: { message: expect.any(String), type: expect.any(String), code } });
    expect(h.standIn.requests).toHaveLength(before);
  }
  async function expectAnthropicRefusal(res: Response, status: number, code: string, before: number): Promise<void> {
    const text = await res.text();
    answers.push(text);
    expect(res.status, text).toBe(status);
    expect(JSON.parse(text)).toMatchObject({
      type: 'error',
      error: { type: expect.any(String), message: expect.stringMatching(new RegExp(`^${code}: `)) },
    });
    expect(h.standIn.requests).toHaveLength(before);
  }

  it('refuses a missing, unknown, revoked or expired key with 401', async () => {
    const before = h.standIn.requests.length;
    const res = await fetch(`${h.origin}/v1/chat/completions`, { method: 'POST', body: '{}' });
    await expectOpenAIRefusal(res, 401, 'UNAUTHORIZED', before);
    await expectOpenAIRefusal(await chat('ak_not-a-key'), 401, 'UNAUTHORIZED', before);
    const revoked = await h.f.apiKey(user, { permissions: ['gateway'] });
    await h.t.http.delete(`/api/api-keys/${revoked.id}`).set(user.auth).expect(200);
    await expectAnthropicRefusal(await messages(revoked.key), 401, 'UNAUTHORIZED', before);
    const expired = await h.f.apiKey(user, { permissions: ['gateway'] });
    await h.t.db.query(`UPDATE api_keys SET expires_at = now() - interval '1 minute' WHERE id = $1`, [expired.id]);
    await expectOpenAIRefusal(await chat(expired.key), 401, 'UNAUTHORIZED', before);
  });

  it('refuses a key revoked, expired or narrowed after a request it served, before the upstream', async () => {
    // The key's lookup is remembered between requests; the hold's statement checks the key as it is.
    const served = async (apiKey: string) => {
      const res = await chat(apiKey);
      expect(res.status, await res.text()).toBe(200);
    };
    const revoked = await h.f.apiKey(user, { permissions: ['gateway'] });
    await served(revoked.key);
    await h.t.http.delete(`/api/api-keys/${revoked.id}`).set(user.auth).expect(200);
    let before = h.standIn.requests.length;
    await expectOpenAIRefusal(await chat(revoked.key), 401, 'UNAUTHORIZED', before);
    const expired = await h.f.apiKey(user, { permissions: ['gateway'] });
    await served(expired.key);
    await h.t.db.query(`UPDATE api_keys SET expires_at = now() - interval '1 minute' WHERE id = $1`, [expired.id]);
    before = h.standIn.requests.length;
    await expectAnthropicRefusal(await messages(expired.key), 401, 'UNAUTHORIZED', before);
    const narrowed = await h.f.apiKey(user, { permissions: ['gateway'] });
    await served(narrowed.key);
    await h.t.http
      .patch(`/api/api-keys/${narrowed.id}`)
      .set(user.auth)
      .send({ models: ['some-other-model'] })
      .expect(200);
    before = h.standIn.requests.length;
    await expectOpenAIRefusal(await chat(narrowed.key), 403, 'MODEL_NOT_ENTITLED', before);
    // Nothing held for the refused requests: the sessions of these keys are the three served ones.
    const { rows } = await h.t.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM streaming_sessions WHERE opened_by_api_key_id = ANY($1::uuid[])`,
      [[revoked.id, expired.id, narrowed.id]],
    );
    expect(rows[0].n).toBe(3);
  });

  it('refuses a key without the gateway scope (a new key lacks it unless named)', async () => {
    const before = h.standIn.requests.length;
    const plain = await h.f.apiKey(user);
    expect(plain.permissions).not.toContain('gateway');
    await expectOpenAIRefusal(await chat(plain.key), 403, 'FORBIDDEN', before);
    await expectAnthropicRefusal(await messages(plain.key), 403, 'FORBIDDEN', before);
  });

  it('refuses an unpriced or unrouted model with 404 and a model outside the key’s list with 403', async () => {
    const before = h.standIn.requests.length;
    const unpriced = h.model.replace(/-model$/, '-unpriced');
    await expectOpenAIRefusal(await chat(key, { model: unpriced }), 404, 'MODEL_NOT_FOUND', before);
    await expectAnthropicRefusal(await messages(key, { model: 'gpt-elsewhere' }), 404, 'MODEL_NOT_FOUND', before);
    const listed = await h.f.apiKey(user, { permissions: ['gateway'], models: ['some-other-model'] });
    await expectOpenAIRefusal(await chat(listed.key), 403, 'MODEL_NOT_ENTITLED', before);
  });

  it('refuses with 402 when the balance or the key budget cannot cover the worst case', async () => {
    const before = h.standIn.requests.length;
    const poor = await h.f.newUser({ credits: 1 });
    const poorKey = (await h.f.apiKey(poor, { permissions: ['gateway'] })).key;
    await expectOpenAIRefusal(await chat(poorKey), 402, 'INSUFFICIENT_CREDITS', before);
    await expectAnthropicRefusal(await messages(poorKey), 402, 'INSUFFICIENT_CREDITS', before);
    const capped = await h.f.apiKey(user, { permissions: ['gateway'], creditLimit: 1, limitPeriod: 'day' });
    await expectOpenAIRefusal(await chat(capped.key), 402, 'KEY_LIMIT_EXCEEDED', before);
    expect(await h.f.available(poor.id)).toBe(1);
  });

  it('refuses an org key’s member past their limit with 402 MEMBER_LIMIT_EXCEEDED', async () => {
    const before = h.standIn.requests.length;
    const member = await h.f.newUser();
    const orgId = uniqueId('gworg').toLowerCase();
    await h.t.db.query(`INSERT INTO orgs (org_id, name, created_by) VALUES ($1, $1, 'admin')`, [orgId]);
    // The pool covers the worst case many times over; the member's daily limit of 1 does not.
    await h.t.db.query(
      `WITH m AS (INSERT INTO org_members (org_id, user_id, role) VALUES ($1, $2, 'member'))
       INSERT INTO credit_caps (subject_kind, subject_id, account_id, credit_limit, period)
       VALUES ('member', $2, (SELECT account_id FROM accounts WHERE org_id = $1), 1, 'day')`,
      [orgId, member.id],
    );
    await h.t.db.query(
      `SELECT 1 FROM credits_grant((SELECT account_id FROM accounts WHERE org_id = $1), 100000, 'admin',
              now() + interval '30 days', NULL, 'manual', NULL, NULL, NULL, false)`,
      [orgId],
    );
    const orgKey = (await h.f.apiKey(member, { orgId, permissions: ['gateway'] })).key;
    await expectOpenAIRefusal(await chat(orgKey), 402, 'MEMBER_LIMIT_EXCEEDED', before);
    await expectAnthropicRefusal(await messages(orgKey), 402, 'MEMBER_LIMIT_EXCEEDED', before);
    const { rows } = await h.t.db.query(
      `SELECT credit_available((SELECT account_id FROM accounts WHERE org_id = $1))::int AS n`,
      [orgId],
    );
    expect(rows[0].n).toBe(100_000);
  });

  it('refuses past the hourly spend rate with 429 SPEND_RATE_LIMITED and Retry-After', async () => {
    const before = h.standIn.requests.length;
    const limited = await h.f.newUser({ credits: 100_000 });
    await h.t.http
      .put(`/api/credits/limits/${limited.id}`)
      .set(bearer(tokenFor('admin', 'gateway-admin')))
      .send({ maxCreditsPerHour: 1 })
      .expect(200);
    const limitedKey = (await h.f.apiKey(limited, { permissions: ['gateway'] })).key;
    const res = await chat(limitedKey);
    const after = Number(res.headers.get('retry-after'));
    expect(Number.isInteger(after) && after >= 1 && after <= 3600).toBe(true);
    await expectOpenAIRefusal(res, 429, 'SPEND_RATE_LIMITED', before);
    await expectAnthropicRefusal(await messages(limitedKey), 429, 'SPEND_RATE_LIMITED', before);
    expect(await h.f.available(limited.id)).toBe(100_000);
  });

  it('holds the rule’s maxOutputTokens for a request that names no limit', async () => {
    const short = h.model.replace(/-model$/, '-short');
    const rule = await h.t.http
      .post('/api/pricing')
      .set(bearer(tokenFor('admin', 'gateway-admin')))
      .send({
        modelId: short,
        pricePer1kTokens: '10',
        outputPricePer1kTokens: '20',
        cacheWritePricePer1kTokens: '12.5',
        reasoningPricePer1kTokens: '30',
        maxOutputTokens: 10,
      });
    expect(rule.status, JSON.stringify(rule.body)).toBe(201);
    expect(rule.body.maxOutputTokens).toBe(10);
    // 17 input bytes at 12.5 and 10 output tokens at 30: estimate 1, hold 2 (at 4096 it would be 149).
    const { hold } = holdOf(Buffer.byteLength('rolecontentuserhi'), 10);
    expect(hold).toBe(2);
    const account = await h.f.newUser({ credits: hold });
    const shortKey = (await h.f.apiKey(account, { permissions: ['gateway'] })).key;
    h.standIn.kinds = { input: 5, cacheRead: 0, cacheWrite: 0, output: 5, reasoning: 0 };
    try {
      const res = await chat(shortKey, { model: short });
      expect(res.status, await res.clone().text()).toBe(200);
      answers.push(await res.text());
    } finally {
      h.standIn.kinds = null;
    }
    await until('the request is settled', async () => (await h.f.available(account.id)) === hold - 1);
  });

  it('refuses bad input with 400 before holding anything', async () => {
    const before = h.standIn.requests.length;
    await expectOpenAIRefusal(await chat(key, { model: 42 }), 400, 'VALIDATION', before);
    await expectOpenAIRefusal(await chat(key, { max_tokens: -1 }), 400, 'VALIDATION', before);
    const res = await fetch(`${h.origin}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}` },
      body: '{"model":',
    });
    await expectOpenAIRefusal(res, 400, 'VALIDATION', before);
  });

  it('admits at most what the balance holds: 200 parallel streams against 20 worst-case holds', async () => {
    const { hold } = holdOf(Buffer.byteLength('rolecontentuserhi'), 1000);
    const account = await h.f.newUser({ credits: 20 * hold });
    const raceKey = (await h.f.apiKey(account, { permissions: ['gateway'] })).key;
    h.standIn.mode = 'hang';
    const before = h.standIn.requests.length;
    const controllers = Array.from({ length: 200 }, () => new AbortController());
    try {
      const answers = await Promise.all(
        controllers.map((c) =>
          fetch(`${h.origin}/v1/chat/completions`, {
            method: 'POST',
            headers: { authorization: `Bearer ${raceKey}`, 'content-type': 'application/json' },
            body: JSON.stringify({
              model: h.model,
              messages: [{ role: 'user', content: 'hi' }],
              max_tokens: 1000,
              stream: true,
            }),
            signal: c.signal,
          }),
        ),
      );
      const admitted = answers.filter((r) => r.status === 200);
      const refused = answers.filter((r) => r.status !== 200);
      expect(admitted).toHaveLength(20);
      expect(refused.every((r) => r.status === 402)).toBe(true);
      for (const r of refused) expect((await r.json()).error.code).toBe('INSUFFICIENT_CREDITS');
      expect(h.standIn.requests.length - before).toBe(20);
      expect(await h.f.available(account.id)).toBe(0);
    } finally {
      for (const c of controllers) c.abort();
      h.standIn.mode = 'complete';
    }
    // Every admitted request settles once, as cut off by its client, and nothing is overspent.
    const records = async () =>
      (
        await h.t.db.query(
          `SELECT credits, metadata->'gateway'->>'reason' AS reason FROM usage_records WHERE user_id = $1`,
          [account.id],
        )
      ).rows as { credits: number; reason: string }[];
    await until('the 20 admitted requests are settled', async () => (await records()).length === 20);
    const rows = await records();
    expect(rows.every((r) => r.reason === 'client_abort')).toBe(true);
    const charged = rows.reduce((sum, r) => sum + r.credits, 0);
    expect(charged).toBeLessThanOrEqual(20 * hold);
    expect(await h.f.available(account.id)).toBe(20 * hold - charged);
  });

  it('answers /v1/* with 404 when no upstream is configured', async () => {
    const off = await startTestApp();
    try {
      const answer = await off.http.post('/v1/chat/completions').set('Authorization', `Bearer ${key}`).send({});
      expect(answer.status).toBe(404);
    } finally {
      await off.close();
    }
  });

  it('never lets an SDK see the provider keys', async () => {
    const openai = new OpenAI({ apiKey: key, baseURL: `${h.origin}/v1`, maxRetries: 0 });
    const anthropic = new Anthropic({ apiKey: key, baseURL: h.origin, maxRetries: 0 });
    const id = uniqueId('gw');
    const answer = await openai.chat.completions.create(
      { model: h.model, messages: [{ role: 'user', content: 'hi' }] },
      { headers: { 'x-request-id': id } },
    );
    answers.push(JSON.stringify(answer));
    answers.push(
      JSON.stringify(
        await anthropic.messages.create({
          model: h.model,
          max_tokens: 10,
          messages: [{ role: 'user', content: 'hi' }],
        }),
      ),
    );
    answers.push(JSON.stringify(await openai.models.list()));
  });
});
