import { describe, expect, it } from 'vitest';

import { allocatedFor, durationSeconds, sameRequest, tokenCounts } from './settlement.js';

describe('streaming settlement helpers', () => {
  it('holds ceil(estimate × 6 / 5) exactly', () => {
    expect([0, 1, 4, 5, 6, 10, 13, 100].map(allocatedFor)).toEqual([0, 2, 5, 6, 8, 12, 16, 120]);
    // beyond 2^53 / 6 floating point would round; BigInt does not
    expect(allocatedFor(2_000_000_000_000_003)).toBe(2_400_000_000_000_004);
  });

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

  it('recognises a retry only when route, counts and outcome match', () => {
    const fin = { kind: 'finalize' as const, success: true, tokens: 10, inputTokens: null, outputTokens: null };
    expect(sameRequest(fin, { ...fin })).toBe(true);
    expect(sameRequest(fin, { ...fin, tokens: 11 })).toBe(false);
    expect(sameRequest(fin, { ...fin, success: false })).toBe(false);
    expect(sameRequest(fin, { kind: 'abort', tokens: 10, inputTokens: null, outputTokens: null })).toBe(false);
    expect(sameRequest({ kind: 'expire' }, { kind: 'expire' })).toBe(false);
    expect(sameRequest({ ...fin, tokens: 10, inputTokens: 4, outputTokens: 6 }, fin)).toBe(false);
  });

  it('measures durations in seconds', () => {
    expect(durationSeconds(new Date('2026-01-01T00:00:00Z'), new Date('2026-01-01T00:01:01.500Z'))).toBe(61.5);
  });
});
