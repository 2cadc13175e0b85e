import { describe, expect, it } from 'vitest';

import { splitFields, tokenCounts } from './token-counts.js';

describe('the token-split rule', () => {
  it('takes one count or the counts per kind, never both', () => {
    expect(tokenCounts(1500, {}, 'actualTokens')).toEqual({
      kinds: { input: 1500, output: 0, cacheRead: 0, cacheWrite: 0, reasoning: 0 },
      total: 1500,
      split: null,
    });
    const split = { input: 1000, output: 0, cacheRead: 0, cacheWrite: 0, reasoning: 0 };
    expect(tokenCounts(undefined, { inputTokens: 1000 }, 'actualTokens')).toEqual({ kinds: split, total: 1000, split });
    expect(() => tokenCounts(10, { inputTokens: 1, outputTokens: 1 }, 'actualTokens')).toThrow(/either actualTokens/);
    expect(() => tokenCounts(10, { cacheReadTokens: 1 }, 'tokens')).toThrow(/either tokens/);
    expect(() => tokenCounts(undefined, {}, 'estimatedTokens')).toThrow(/estimatedTokens is required/);
    expect(() => tokenCounts(undefined, { inputTokens: 2_000_000_000, outputTokens: 2_000_000_000 }, 'x')).toThrow(
      /must not exceed/,
    );
  });

  it('counts every kind, a missing one as 0', () => {
    const counts = tokenCounts(undefined, { inputTokens: 1000, cacheReadTokens: 20_000, outputTokens: 500 }, 't');
    expect(counts.total).toBe(21_500);
    expect(counts.split).toEqual({ input: 1000, output: 500, cacheRead: 20_000, cacheWrite: 0, reasoning: 0 });
    expect(() =>
      tokenCounts(undefined, { reasoningTokens: 1_500_000_000, cacheWriteTokens: 1_500_000_000 }, 'x'),
    ).toThrow(/must not exceed/);
  });

  it('gives a split as the record fields of each kind, and a single count as none', () => {
    const { split } = tokenCounts(undefined, { inputTokens: 1000, cacheReadTokens: 20_000 }, 'tokens');
    expect(splitFields(split)).toEqual({
      inputTokens: 1000,
      outputTokens: 0,
      cacheReadTokens: 20_000,
      cacheWriteTokens: 0,
      reasoningTokens: 0,
    });
    expect(splitFields(tokenCounts(1500, {}, 'tokens').split)).toEqual({
      inputTokens: null,
      outputTokens: null,
      cacheReadTokens: null,
      cacheWriteTokens: null,
      reasoningTokens: null,
    });
  });
});
