import { DomainError } from '../common/errors/domain-error.js';
import { MAX_TOKENS } from '../common/validation/amounts.js';
import { kindsOf, type TokenKinds } from './pricing-math.js';
import {
  MODEL_ONLY_KINDS,
  perField,
  TOKEN_FIELDS,
  TOKEN_KINDS,
  type TokenField,
  tokenField,
  type TokenFields,
} from './token-kinds.js';

/** The per-kind token fields of a request body (each optional, each ≥ 0). */
export type TokenKindFields = Partial<TokenFields<number>>;

/** The fields of the kinds only a model's rule prices apart (MODEL_ONLY_KINDS). */
export const MODEL_KINDS: readonly TokenField[] = TOKEN_KINDS.filter((kind) => MODEL_ONLY_KINDS[kind]).map(tokenField);

export interface TokenCounts {
  /** The tokens as priced: a single count is all input. */
  kinds: TokenKinds;
  total: number;
  /** The kinds as given (a missing kind counts 0); null when the single count was given. */
  split: TokenKinds | null;
}

/** The per-kind fields of a record or a settlement: each kind's count, or null each when none was split. */
export type SplitFields = TokenFields<number | null>;

/** Null under every kind's field: made once, as every record without a split (a batch's thousand) has it. */
const NO_SPLIT: Readonly<SplitFields> = Object.freeze(perField(() => null));

/** A split's counts as those fields (null each for a single count, which records keep as the total). */
export function splitFields(split: TokenKinds | null): Readonly<SplitFields> {
  return split === null ? NO_SPLIT : perField((kind) => split[kind] ?? null);
}

/** Whether the body gives any per-kind count. */
export function hasKinds(fields: TokenKindFields): boolean {
  return TOKEN_FIELDS.some((field) => fields[field] !== undefined);
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
      split[kind] = fields[tokenField(kind)] ?? 0;
      total += split[kind];
    }
    if (total > MAX_TOKENS)
      throw new DomainError('VALIDATION', `The token counts of all kinds together must not exceed ${MAX_TOKENS}`);
    return { kinds: split, total, split };
  }
  if (single === undefined) throw new DomainError('VALIDATION', `${field} is required (or inputTokens/outputTokens)`);
  return { kinds: kindsOf(single), total: single, split: null };
}
