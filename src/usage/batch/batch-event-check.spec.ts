import 'reflect-metadata';

import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { BatchEventDto } from '../dto/record-batch.dto.js';
import { quickBatchEvent } from './batch-event-check.js';

const fullyValid = (raw: unknown) =>
  validateSync(plainToInstance(BatchEventDto, raw), { whitelist: true, forbidNonWhitelisted: true }).length === 0;

/** Values near every bound of every field: valid ones, wrong types, edges, nulls, odd strings. */
const anyValue = fc.oneof(
  fc.string({ minLength: 0, maxLength: 3 }),
  fc.string({ minLength: 45, maxLength: 105, unit: 'grapheme' }),
  fc.constantFrom('', 'chat', 'a'.repeat(50), 'a'.repeat(51), 'a'.repeat(100), 'a'.repeat(101), '😀'.repeat(50)),
  fc.integer({ min: -2, max: 5 }),
  fc.constantFrom(2_147_483_647, 2_147_483_648, 1.5, -0, Number.NaN, Infinity),
  fc.constantFrom(null, true, [], {}, { conversationId: 'c-1' }, { big: 'x'.repeat(17_000) }, ['x']),
  // Provider usage: valid, a bad count, a part beyond its total, an unknown format, too large.
  fc.constantFrom(
    { format: 'anthropic', usage: { input_tokens: 10, output_tokens: 5 } },
    { format: 'openai.chat', usage: { prompt_tokens: 10, prompt_tokens_details: { cached_tokens: 11 } } },
    { format: 'gemini', usage: { promptTokenCount: -1 } },
    { format: 'mistral', usage: {} },
    { format: 'anthropic', usage: { input_tokens: 1, pad: 'x'.repeat(4100) } },
  ),
);
const KEYS = [
  'eventId',
  'userId',
  'service',
  'operation',
  'modelId',
  'credits',
  'tokens',
  'inputTokens',
  'outputTokens',
  'metadata',
  'providerUsage',
  'other',
];
// As JSON.parse makes them: plain objects (fast-check's own have no prototype).
const anyEvent = fc.dictionary(fc.constantFrom(...KEYS), anyValue, { maxKeys: 8 }).map((o) => ({ ...o }));
const validEvent = fc
  .record(
    {
      eventId: fc.string({ minLength: 1, maxLength: 100 }),
      service: fc.string({ minLength: 1, maxLength: 50 }),
      operation: fc.string({ minLength: 1, maxLength: 100 }),
      credits: fc.integer({ min: 0, max: 2_147_483_647 }),
      userId: fc.string({ minLength: 1, maxLength: 50 }),
      metadata: fc.dictionary(fc.string(), fc.jsonValue(), { maxKeys: 3 }),
    },
    { requiredKeys: ['eventId', 'service', 'operation'] },
  )
  .map((o) => ({ ...o }));

/** A valid event with one or two fields set to anything (or an extra key), so edges are hit often. */
const nearValid = fc
  .tuple(validEvent, fc.constantFrom(...KEYS), anyValue, fc.constantFrom(...KEYS), anyValue, fc.boolean())
  .map(([event, k1, v1, k2, v2, both]) => ({ ...event, [k1]: v1, ...(both ? { [k2]: v2 } : {}) }));

describe('quickBatchEvent', () => {
  it('accepts only events that the DTO validation accepts', () => {
    let accepted = 0;
    fc.assert(
      fc.property(fc.oneof(anyEvent, validEvent, nearValid), (raw) => {
        if (quickBatchEvent(raw) === null) return;
        accepted++;
        expect(fullyValid(raw)).toBe(true);
      }),
      { numRuns: 5000 },
    );
    expect(accepted).toBeGreaterThan(1000);
    // 5,000 full validations: about 3 s alone, more on a machine shared by several test runs.
  }, 20_000);

  it('takes the common event, and answers the object it was given', () => {
    fc.assert(
      fc.property(validEvent, (raw) => {
        expect(quickBatchEvent(raw)).toBe(raw);
      }),
    );
  });

  it('leaves unknown keys, nulls and non-plain objects to the full validation', () => {
    const base = { eventId: 'e', service: 's', operation: 'o', credits: 1 };
    expect(quickBatchEvent(base)).toBe(base);
    expect(quickBatchEvent({ ...base, extra: 1 })).toBeNull();
    expect(quickBatchEvent({ ...base, credits: null })).toBeNull();
    expect(quickBatchEvent({ ...base, metadata: [] })).toBeNull();
    expect(quickBatchEvent({ eventId: 'e', service: 's' })).toBeNull();
    expect(quickBatchEvent(Object.assign(Object.create({ inherited: 1 }), base))).toBeNull();
  });
});
