import { DomainError } from '../common/errors/domain-error.js';
import { MAX_CREDITS } from '../common/validation/amounts.js';
import { MODEL_KINDS } from '../pricing/token-counts.js';
import { TOKEN_FIELDS } from '../pricing/token-kinds.js';
import type { AbortResponseDto, FinalizeResponseDto } from './dto/session-responses.dto.js';
import type { SessionStatus, SettlementRequest, SettlementTokens } from './entities/streaming-session.entity.js';

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

const COUNTS = ['tokens', ...TOKEN_FIELDS] as const;
/** The kinds added after the first settlements were stored (migration 1732000021000). */
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

/**
 * A retry is the same settlement request: same route, same token counts (given the same way: the
 * same providerUsage format, or none), same termination, same outcome.
 */
/** Two settlements' units alike, whatever order their names came in. */
function sameUnits(a: Record<string, number> | null, b: Record<string, number> | null): boolean {
  const names = new Set([...Object.keys(a ?? {}), ...Object.keys(b ?? {})]);
  return [...names].every((name) => (a?.[name] ?? 0) === (b?.[name] ?? 0));
}

export function sameRequest(a: SettlementRequest, b: SettlementRequest): boolean {
  if (a.kind !== b.kind) return false;
  if (a.kind === 'expire' || b.kind === 'expire') return false;
  if (COUNTS.some((field) => countOf(a, field) !== countOf(b, field))) return false;
  if ((a.format ?? null) !== (b.format ?? null) || (a.termination ?? null) !== (b.termination ?? null)) return false;
  if ((a.serviceTier ?? null) !== (b.serviceTier ?? null) || !sameUnits(a.units ?? null, b.units ?? null)) return false;
  return a.kind === 'finalize' && b.kind === 'finalize' ? a.success === b.success : true;
}

/** A settled session's columns, as its settlement statement or its stored row gives them. */
export interface SettledSession {
  session_id: string;
  user_id: string;
  /** The organisation that paid (null: the user's account); optional for answers built without it. */
  org_id?: string | null;
  status: Exclude<SessionStatus, 'active'>;
  estimated_credits: number;
  allocated_credits: number;
  actual_credits: number;
  refund: number;
  shortfall: number;
}

/**
 * The answer of a finalize, built from the settled columns: the settlement that just happened, or
 * the stored one a retry of the same request is answered again (the one definition of the answer).
 */
export function finalizeAnswer(s: SettledSession): FinalizeResponseDto {
  const { status } = s;
  if (status !== 'completed' && status !== 'failed') throw new Error(`A finalize cannot answer a ${status} session`);
  return {
    sessionId: s.session_id,
    userId: s.user_id,
    status,
    estimatedCredits: s.estimated_credits,
    allocatedCredits: s.allocated_credits,
    actualCredits: s.actual_credits,
    refund: s.refund,
    shortfall: s.shortfall,
  };
}

/** The answer of an abort, built from the settled columns (see finalizeAnswer). */
export function abortAnswer(s: SettledSession): AbortResponseDto {
  const { status } = s;
  if (status !== 'aborted') throw new Error(`An abort cannot answer a ${status} session`);
  return {
    sessionId: s.session_id,
    userId: s.user_id,
    status,
    partialCredits: s.actual_credits,
    refund: s.refund,
    shortfall: s.shortfall,
  };
}

/** A settled session answers the identical request again (a retry) and refuses anything else. */
export function replayOrConflict(
  session: { session_id: string; status: SessionStatus; settlement: { request: SettlementRequest } | null },
  settled: SettledSession,
  request: SettlementRequest,
): SettledSession {
  if (session.settlement && sameRequest(session.settlement.request, request)) return settled;
  throw new DomainError('ALREADY_SETTLED', `Session ${session.session_id} is already ${session.status}`, {
    sessionId: session.session_id,
    status: session.status,
  });
}
