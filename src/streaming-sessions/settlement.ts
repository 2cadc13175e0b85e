import { DomainError } from '../common/errors/domain-error.js';
import { MAX_CREDITS, MAX_TOKENS } from '../common/validation/amounts.js';
import type { SettlementRequest } from './entities/streaming-session.entity.js';

/** The hold for an estimate: ceil(estimate × 6 / 5), in exact integer arithmetic. */
export function allocatedFor(estimatedCredits: number): number {
  return Number((BigInt(estimatedCredits) * 6n + 4n) / 5n);
}

/**
 * The hold of a new session. An estimate within the credit range can still hold beyond it (× 1.2):
 * no balance could ever be asked for that in one `integer` amount, so it is bad input, not a 402.
 */
export function holdFor(estimatedCredits: number): number {
  const hold = allocatedFor(estimatedCredits);
  if (hold > MAX_CREDITS) {
    throw new DomainError(
      'VALIDATION',
      `The estimate prices at ${estimatedCredits} credits, whose hold (× 1.2) of ${hold} is beyond the largest credit amount (${MAX_CREDITS})`,
    );
  }
  return hold;
}

export interface TokenCounts {
  /** What PricingService.quote takes. */
  quote: { tokens?: number; inputTokens?: number; outputTokens?: number };
  total: number;
  inputTokens: number | null;
  outputTokens: number | null;
}

/**
 * One token count or the input/output split (a missing half counts 0), never both. `single` is the
 * route's own field (`estimatedTokens`, `actualTokens`, `tokensGenerated`).
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

/** A retry is the same settlement request: same route, same token counts, same outcome. */
export function sameRequest(a: SettlementRequest, b: SettlementRequest): boolean {
  if (a.kind !== b.kind) return false;
  if (a.kind === 'expire' || b.kind === 'expire') return false;
  if (
    a.tokens !== b.tokens ||
    (a.inputTokens ?? null) !== (b.inputTokens ?? null) ||
    (a.outputTokens ?? null) !== (b.outputTokens ?? null)
  ) {
    return false;
  }
  return a.kind === 'finalize' && b.kind === 'finalize' ? a.success === b.success : true;
}
