import { describe, expect, it } from 'vitest';

import { abortAnswer, allocatedFor, finalizeAnswer, holdFor, sameRequest } from './settlement.js';

describe('streaming settlement helpers', () => {
  it('holds ceil(estimate × 6 / 5) exactly', () => {
    expect([0, 1, 4, 5, 6, 10, 13, 100].map(allocatedFor)).toEqual([0, 2, 5, 6, 8, 12, 16, 120]);
    // beyond 2^53 / 6 floating point would round; BigInt does not
    expect(allocatedFor(2_000_000_000_000_003)).toBe(2_400_000_000_000_004);
  });

  it('a hold beyond the credit range is bad input, even when the estimate itself fits', () => {
    // ceil(1,789,569,706 × 1.2) = 2,147,483,648: one past the largest integer.
    expect(holdFor(1_789_569_705)).toBe(2_147_483_646);
    expect(() => holdFor(1_789_569_706)).toThrow(/hold \(× 1\.2\) of 2147483648 is beyond the largest credit amount/);
    expect(() => holdFor(2_147_483_647)).toThrow(expect.objectContaining({ code: 'VALIDATION' }));
  });

  it('recognises a retry only when route, counts and outcome match', () => {
    const fin = { kind: 'finalize' as const, success: true, tokens: 10, inputTokens: null, outputTokens: null };
    expect(sameRequest(fin, { ...fin })).toBe(true);
    expect(sameRequest(fin, { ...fin, tokens: 11 })).toBe(false);
    expect(sameRequest(fin, { ...fin, success: false })).toBe(false);
    expect(sameRequest(fin, { kind: 'abort', tokens: 10, inputTokens: null, outputTokens: null })).toBe(false);
    expect(sameRequest({ kind: 'expire' }, { kind: 'expire' })).toBe(false);
    expect(sameRequest({ ...fin, tokens: 10, inputTokens: 4, outputTokens: 6 }, fin)).toBe(false);
    // Token kinds: a different kind is another request; a settlement stored before kinds (no field) is all null.
    const split = { ...fin, tokens: 10, inputTokens: 4, outputTokens: 6 };
    const kinds = { ...split, cacheReadTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0 };
    expect(sameRequest(kinds, { ...kinds })).toBe(true);
    expect(sameRequest(kinds, { ...kinds, reasoningTokens: 1 })).toBe(false);
    // Settled before token kinds: a split without the new kinds counted them 0, a single count had none.
    expect(sameRequest(split, kinds)).toBe(true);
    expect(sameRequest(kinds, split)).toBe(true);
    expect(sameRequest(split, { ...kinds, cacheReadTokens: 3 })).toBe(false);
    const single = { ...fin, cacheReadTokens: null, cacheWriteTokens: null, reasoningTokens: null };
    expect(sameRequest(fin, single)).toBe(true);
    // Provider usage: the same counts from a providerUsage, or with another termination, are another
    // request; a settlement stored before either (no field) had neither.
    const provider = { ...kinds, format: 'anthropic', termination: 'completed' };
    expect(sameRequest(provider, { ...provider })).toBe(true);
    expect(sameRequest(provider, { ...provider, format: null })).toBe(false);
    expect(sameRequest(provider, { ...provider, format: 'gemini' })).toBe(false);
    expect(sameRequest(provider, { ...provider, termination: 'max_tokens' })).toBe(false);
    expect(sameRequest(kinds, { ...kinds, format: null, termination: null })).toBe(true);
  });
});

describe('the settlement answers', () => {
  const settled = {
    session_id: 's-1',
    user_id: 'alice',
    estimated_credits: 6,
    allocated_credits: 8,
    actual_credits: 7,
    refund: 1,
    shortfall: 0,
  };

  it.each([
    [
      'a finalize answers its amounts in the order the route always answered them',
      () => finalizeAnswer({ ...settled, status: 'failed' }),
      { status: 'failed', estimatedCredits: 6, allocatedCredits: 8, actualCredits: 7 },
    ],
    [
      'an abort answers what was charged as partialCredits',
      () => abortAnswer({ ...settled, status: 'aborted' }),
      { status: 'aborted', partialCredits: 7 },
    ],
  ])('%s', (_case, answer, amounts) => {
    const expected = { sessionId: 's-1', userId: 'alice', ...amounts, refund: 1, shortfall: 0 };
    expect(JSON.stringify(answer())).toBe(JSON.stringify(expected));
  });

  it('neither answers a session settled another way', () => {
    expect(() => finalizeAnswer({ ...settled, status: 'aborted' })).toThrow();
    expect(() => finalizeAnswer({ ...settled, status: 'expired' })).toThrow();
    expect(() => abortAnswer({ ...settled, status: 'completed' })).toThrow();
  });
});
