import { DomainError } from '../common/errors/domain-error.js';
import { MAX_CREDITS } from '../common/validation/amounts.js';
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

/** A retry is the same settlement request: same route, same token counts, same outcome. */
export function sameRequest(a: SettlementRequest, b: SettlementRequest): boolean {
  if (a.kind !== b.kind) return false;
  if (a.kind === 'expire' || b.kind === 'expire') return false;
  const counts = [
    'tokens',
    'inputTokens',
    'outputTokens',
    'cacheReadTokens',
    'cacheWriteTokens',
    'reasoningTokens',
  ] as const;
  if (counts.some((field) => (a[field] ?? null) !== (b[field] ?? null))) return false;
  return a.kind === 'finalize' && b.kind === 'finalize' ? a.success === b.success : true;
}
