import { describe, expect, it } from 'vitest';

import { answerTemplate, type CreateUsageRecordInput, insertedRecord } from './usage-record-rows.js';

/**
 * An Idempotency-Key's stored answer is answerTemplate() completed by the record's statement (its time,
 * credits, metadata, provider usage and volume step; `occurredAt` the time unless the template names
 * one): it must be, as JSON, the answer the route sends, insertedRecord().
 */
function completed(input: CreateUsageRecordInput & { id: string }, row: Parameters<typeof insertedRecord>[1]) {
  const at = row.timestamp.toISOString();
  const template = JSON.parse(JSON.stringify(answerTemplate(input))) as Record<string, unknown>;
  return {
    ...template,
    timestamp: at,
    credits: row.credits ?? input.credits,
    metadata: row.metadata,
    providerUsage: row.provider_usage,
    volumeStep: row.volume_step ?? null,
    occurredAt: template.occurredAt ?? at,
  };
}

const ROW = { timestamp: new Date('2026-12-01T10:00:00.123Z'), metadata: null, provider_usage: null };

describe('answerTemplate', () => {
  it('completed as the statement completes it, is the answer the route sends (a user’s plain record)', () => {
    const input = {
      id: '6a1f3a52-8f0e-4a55-9d59-8ad3c3a4e0a1',
      account: { kind: 'user' as const, ownerId: 'u-1', memberId: null },
      service: 'chat',
      operation: 'message',
      credits: 3,
    };
    expect(completed(input, ROW)).toEqual(JSON.parse(JSON.stringify(insertedRecord(input, ROW))));
  });

  it('keeps every field an input names: a member’s record with tokens, a price, scopes and its own time', () => {
    const input = {
      id: '0b3e8c1d-2f4a-4b6c-8d9e-0f1a2b3c4d5e',
      account: { kind: 'org' as const, ownerId: 'org-1', memberId: 'm-7' },
      service: 'chat',
      operation: 'completion',
      credits: 12,
      modelId: 'gpt-4o',
      tokens: 1500,
      inputTokens: 1000,
      outputTokens: 400,
      cacheReadTokens: 60,
      cacheWriteTokens: 30,
      reasoningTokens: 10,
      pricingRuleId: 'b7c1f6de-52a1-4a3e-9a0b-7c9f4c2a1d10',
      priceSource: { catalog: '0.0.40', model: 'gpt-4o' },
      usageSource: 'provider' as const,
      termination: 'client_abort' as const,
      apiKeyId: '5d2e7f80-1c3b-4f9a-8e6d-2a1b0c9d8e7f',
      actorId: 'svc-1',
      accountPriceId: '9e8d7c6b-5a49-4382-9170-6f5e4d3c2b1a',
      serviceTier: 'priority',
      units: { images: 2 },
      occurredAt: '2026-11-30T23:59:59.5Z',
      scopes: { project: 'p-1', tag: ['a', 'b'], run: 'r-1' },
    };
    const row = {
      ...ROW,
      metadata: { conversation: 'c-9' },
      provider_usage: { format: 'openai.chat' as const, usage: { prompt_tokens: 1000, completion_tokens: 400 } },
      credits: 11,
      volume_step: 2,
    };
    expect(completed(input, row)).toEqual(JSON.parse(JSON.stringify(insertedRecord(input, row))));
  });
});
