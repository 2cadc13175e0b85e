import { randomUUID } from 'node:crypto';

import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { creditsOf, type GatewayHarness, holdOf, recordOf, startGateway } from './support/gateway.js';
import { expectInvariants } from './support/invariants.js';
import type { Kinds } from './support/provider-stand-in.js';

/**
 * An upstream that reports more than the request's bounds (docs/gateway.md "Settlement"): the one
 * exception to Σ charged ≤ Σ held. The streaming settlement's overrun rule applies: the balance pays
 * what it can beyond the hold, the rest is the record's shortfall, and the record is marked for review.
 */
describe('gateway: usage beyond the hold', () => {
  let h: GatewayHarness;
  let openai: OpenAI;
  let userId: string;
  const messages = [{ role: 'user' as const, content: 'Say hello' }];
  const inputBound = Buffer.byteLength('rolecontentuserSay hello');
  const { hold } = holdOf(inputBound, 10);
  /** Far beyond both bounds: 100,000 input tokens against a prompt of a few bytes. */
  const reported: Kinds = { input: 100_000, output: 10, cacheRead: 0, cacheWrite: 0, reasoning: 0 };

  beforeAll(async () => {
    h = await startGateway();
    // The hold and 5 credits more: the reported usage costs far beyond both.
    const user = await h.f.newUser({ credits: hold + 5 });
    userId = user.id;
    const key = (await h.f.apiKey(user, { permissions: ['gateway'] })).key;
    openai = new OpenAI({ apiKey: key, baseURL: `${h.origin}/v1`, maxRetries: 0 });
  });
  afterAll(() => h.close());
  afterEach(() => expectInvariants(h.t, h.users));

  it('charges what the balance pays beyond the hold and records the shortfall for review', async () => {
    h.standIn.kinds = reported;
    const id = `gw-overrun-${randomUUID()}`;
    const answer = await openai.chat.completions.create(
      { model: h.model, messages, max_tokens: 10 },
      { headers: { 'x-request-id': id } },
    );
    expect(answer.usage?.prompt_tokens).toBe(100_000);

    const record = await recordOf(h, id);
    const cost = creditsOf(reported);
    expect(cost).toBeGreaterThan(hold + 5);
    expect(record.metadata.gateway.reason).toBe('reported');
    // Everything the account had (the hold and the 5 beyond it), the rest owed and flagged.
    expect(record.credits).toBe(hold + 5);
    const { rows } = await h.t.db.query<{ billing_status: string; shortfall: number }>(
      `SELECT billing_status, (metadata->>'shortfall')::int AS shortfall FROM usage_records WHERE id = $1`,
      [record.id],
    );
    expect(rows[0]).toEqual({ billing_status: 'needs_review', shortfall: cost - (hold + 5) });
    expect(await h.f.available(userId)).toBe(0);
  });
});
