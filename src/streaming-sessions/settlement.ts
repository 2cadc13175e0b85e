import { DomainError } from '../common/errors/domain-error.js';
import { MAX_CREDITS } from '../common/validation/amounts.js';
import { MODEL_KINDS } from '../pricing/token-counts.js';
import type { SettlementRequest, SettlementTokens } from './entities/streaming-session.entity.js';

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

const COUNTS = [
  'tokens',
  'inputTokens',
  'outputTokens',
  'cacheReadTokens',
  'cacheWriteTokens',
  'reasoningTokens',
] as const;
const NEW_KINDS: readonly string[] = MODEL_KINDS;

/**
 * A count of a stored or new request. A split settled before token kinds has no cache or reasoning
 * field: those counted 0 (a single count has every kind null).
 */
function countOf(request: SettlementTokens, field: (typeof COUNTS)[number]): number | null {
  const value = request[field];
  if (value !== undefined) return value;
  return NEW_KINDS.includes(field) && request.inputTokens !== null ? 0 : null;
}

/** A retry is the same settlement request: same route, same token counts, same outcome. */
export function sameRequest(a: SettlementRequest, b: SettlementRequest): boolean {
  if (a.kind !== b.kind) return false;
  if (a.kind === 'expire' || b.kind === 'expire') return false;
  if (COUNTS.some((field) => countOf(a, field) !== countOf(b, field))) return false;
  return a.kind === 'finalize' && b.kind === 'finalize' ? a.success === b.success : true;
}
