import { describe, expect, it } from 'vitest';

import { tokenCounts } from './token-counts.js';

describe('the token-split rule', () => {
  it('takes one count or the split, never both', () => {
    expect(tokenCounts(1500, undefined, undefined, 'actualTokens')).toEqual({
      quote: { tokens: 1500 },
      total: 1500,
      inputTokens: null,
      outputTokens: null,
    });
    expect(tokenCounts(undefined, 1000, undefined, 'actualTokens')).toEqual({
      quote: { inputTokens: 1000, outputTokens: 0 },
      total: 1000,
      inputTokens: 1000,
      outputTokens: 0,
    });
    expect(() => tokenCounts(10, 1, 1, 'actualTokens')).toThrow(/either actualTokens/);
    expect(() => tokenCounts(undefined, undefined, undefined, 'estimatedTokens')).toThrow(
      /estimatedTokens is required/,
    );
    expect(() => tokenCounts(undefined, 2_000_000_000, 2_000_000_000, 'x')).toThrow(/must not exceed/);
  });
});
