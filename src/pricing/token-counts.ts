import { DomainError } from '../common/errors/domain-error.js';
import { MAX_TOKENS } from '../common/validation/amounts.js';
import { kindsOf, TOKEN_KINDS, type TokenKind, type TokenKinds } from './pricing-math.js';

/** The per-kind token fields of a request body (each optional, each ≥ 0). */
export interface TokenKindFields {
  inputTokens?: number;
  outputTokens?: number;
  cacheReadTokens?: number;
  cacheWriteTokens?: number;
  reasoningTokens?: number;
}

/** The body field of each kind. */
export const KIND_FIELDS: Record<TokenKind, keyof TokenKindFields> = {
  input: 'inputTokens',
  output: 'outputTokens',
  cacheRead: 'cacheReadTokens',
  cacheWrite: 'cacheWriteTokens',
  reasoning: 'reasoningTokens',
};

/** The kinds only a model's rule prices apart (input and output alone may be metered without one). */
export const MODEL_KINDS = ['cacheReadTokens', 'cacheWriteTokens', 'reasoningTokens'] as const;

export interface TokenCounts {
  /** The tokens as priced: a single count is all input. */
  kinds: TokenKinds;
  total: number;
  /** The kinds as given (a missing kind counts 0); null when the single count was given. */
  split: TokenKinds | null;
}

/** The per-kind fields of a record or a settlement: each kind's count, or null each when none was split. */
export type SplitFields = { [F in keyof TokenKindFields]-?: number | null };

/** A split's counts as those fields (null each for a single count, which records keep as the total). */
export function splitFields(split: TokenKinds | null): SplitFields {
  return {
    inputTokens: split?.input ?? null,
    outputTokens: split?.output ?? null,
    cacheReadTokens: split?.cacheRead ?? null,
    cacheWriteTokens: split?.cacheWrite ?? null,
    reasoningTokens: split?.reasoning ?? null,
  };
}

/** Whether the body gives any per-kind count. */
export function hasKinds(fields: TokenKindFields): boolean {
  return TOKEN_KINDS.some((kind) => fields[KIND_FIELDS[kind]] !== undefined);
}

/**
 * The one token-split rule, of every route that takes token counts (record, batch, calculate and the
 * streaming routes): one token count or the counts per kind (a missing kind counts 0), never both.
 * `single` is the route's own field (`tokens`, `estimatedTokens`, `actualTokens`, `tokensGenerated`).
 */
export function tokenCounts(single: number | undefined, fields: TokenKindFields, field: string): TokenCounts {
  if (hasKinds(fields)) {
    if (single !== undefined) {
      throw new DomainError('VALIDATION', `Give either ${field} or the counts per kind (inputTokens, …), not both`);
    }
    const split = {} as TokenKinds;
    let total = 0;
    for (const kind of TOKEN_KINDS) {
      split[kind] = fields[KIND_FIELDS[kind]] ?? 0;
      total += split[kind];
    }
    if (total > MAX_TOKENS)
      throw new DomainError('VALIDATION', `The token counts of all kinds together must not exceed ${MAX_TOKENS}`);
    return { kinds: split, total, split };
  }
  if (single === undefined) throw new DomainError('VALIDATION', `${field} is required (or inputTokens/outputTokens)`);
  return { kinds: kindsOf(single), total: single, split: null };
}
