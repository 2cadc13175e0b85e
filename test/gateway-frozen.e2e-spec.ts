import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { type GatewayHarness, startGateway } from './support/gateway.js';
import { expectInvariants } from './support/invariants.js';

/**
 * A frozen account (its credits frozen by an open dispute, docs/purchases.md): frozen credits are
 * never spendable, so the gateway refuses its worst case with 402 in the provider's shape, and
 * nothing reaches the upstream; once the dispute closes the same request goes through.
 */
describe('gateway: an account whose credits are frozen', () => {
  let h: GatewayHarness;
  let userId: string;
  let openai: OpenAI;
  let anthropic: Anthropic;
  let allocation: string;

  beforeAll(async () => {
    h = await startGateway();
    const user = await h.f.newUser({ credits: 100_000 });
    userId = user.id;
    const key = (await h.f.apiKey(user, { permissions: ['gateway'] })).key;
    openai = new OpenAI({ apiKey: key, baseURL: `${h.origin}/v1`, maxRetries: 0 });
    anthropic = new Anthropic({ apiKey: key, baseURL: h.origin, maxRetries: 0 });
    const { rows } = await h.t.db.query<{ id: string }>(
      `SELECT id FROM credit_allocations WHERE account_id = (SELECT account_id FROM accounts WHERE user_id = $1)`,
      [userId],
    );
    expect(rows).toHaveLength(1);
    allocation = rows[0].id;
  });
  afterAll(() => h.close());
  afterEach(() => expectInvariants(h.t, h.users));

  const freeze = (on: boolean) => h.t.db.query(`SELECT credits_freeze($1, $2, 'gateway-spec', '{}')`, [allocation, on]);
  const ask = { model: '', messages: [{ role: 'user' as const, content: 'Say hello' }], max_tokens: 10 };

  it('refuses with 402 INSUFFICIENT_CREDITS in each provider shape, before the upstream', async () => {
    await freeze(true);
    expect(await h.f.available(userId)).toBe(0);
    const before = h.standIn.requests.length;

    const chat = await openai.chat.completions.create({ ...ask, model: h.model }).catch((e: unknown) => e);
    expect(chat).toBeInstanceOf(OpenAI.APIError);
    expect((chat as InstanceType<typeof OpenAI.APIError>).status).toBe(402);
    expect((chat as InstanceType<typeof OpenAI.APIError>).code).toBe('INSUFFICIENT_CREDITS');

    const message = await anthropic.messages.create({ ...ask, model: h.model }).catch((e: unknown) => e);
    expect(message).toBeInstanceOf(Anthropic.APIError);
    expect((message as InstanceType<typeof Anthropic.APIError>).status).toBe(402);
    expect((message as InstanceType<typeof Anthropic.APIError>).message).toMatch(/INSUFFICIENT_CREDITS: /);

    expect(h.standIn.requests).toHaveLength(before);
    const { rows } = await h.t.db.query(
      `SELECT 1 FROM streaming_sessions WHERE user_id = $1 UNION ALL SELECT 1 FROM usage_records WHERE user_id = $1`,
      [userId],
    );
    expect(rows).toEqual([]);
  });

  it('admits the same request once the dispute closes', async () => {
    await freeze(false);
    const answer = await openai.chat.completions.create({ ...ask, model: h.model });
    expect(answer.choices[0].message.content).toBeTruthy();
  });
});
