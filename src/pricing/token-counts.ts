import { DomainError } from '../common/errors/domain-error.js';
import { MAX_TOKENS } from '../common/validation/amounts.js';

export interface TokenCounts {
  /** What PricingService.quote takes. */
  quote: { tokens?: number; inputTokens?: number; outputTokens?: number };
  total: number;
  inputTokens: number | null;
  outputTokens: number | null;
}

/**
 * The one token-split rule, of every route that takes token counts (record, batch, calculate and the
 * streaming routes): one token count or the input/output split (a missing half counts 0), never both.
 * `single` is the route's own field (`tokens`, `estimatedTokens`, `actualTokens`, `tokensGenerated`).
 */
export function tokenCounts(
  single: number | undefined,
  input: number | undefined,
  output: number | undefined,
  field: string,
): TokenCounts {
  const split = input !== undefined || output !== undefined;
  if (split && single !== undefined) {
    throw new DomainError('VALIDATION', `Give either ${field} or inputTokens/outputTokens, not both`);
  }
  if (split) {
    const inputTokens = input ?? 0;
    const outputTokens = output ?? 0;
    const total = inputTokens + outputTokens;
    if (total > MAX_TOKENS)
      throw new DomainError('VALIDATION', `inputTokens + outputTokens must not exceed ${MAX_TOKENS}`);
    return { quote: { inputTokens, outputTokens }, total, inputTokens, outputTokens };
  }
  if (single === undefined) throw new DomainError('VALIDATION', `${field} is required (or inputTokens/outputTokens)`);
  return { quote: { tokens: single }, total: single, inputTokens: null, outputTokens: null };
}
