import { type BudgetScopes, namesScopes } from '../common/validation/budget-scopes.js';
import type { Dimensions, Units } from '../pricing/dimensions.js';
import type { ProviderUsage, Termination, UsageSource } from '../pricing/provider-usage.js';
import { splitFields, type TokenCounts } from '../pricing/token-counts.js';
import type { SessionStatus, SettlementRequest, SettlementTokens } from './entities/streaming-session.entity.js';

export type SettledStatus = Exclude<SessionStatus, 'active'>;

/** A settlement's record's service, by the status it settles at (an in-process caller may name its own). */
export const SERVICE_BY_STATUS: Record<SettledStatus, string> = {
  completed: 'chat-streaming',
  failed: 'chat-streaming-failed',
  aborted: 'chat-streaming-aborted',
  expired: 'chat-streaming-expired',
};

/**
 * What a caller that settles its own sessions in-process (the gateway) writes on the record beside
 * the settlement's own: its service name instead of `chat-streaming…`, and metadata of its own.
 */
export interface RecordExtras {
  service: string;
  metadata: Record<string, unknown>;
}

/**
 * What a session keeps for the record its settlement writes (streaming_sessions.record_extras): an
 * in-process caller's service and metadata, and the budget scopes its initialize named, which the
 * record of any settlement (finalize, abort, expiry, release) carries (docs/budgets.md).
 */
export interface SessionRecordExtras extends Partial<RecordExtras> {
  scopes?: BudgetScopes;
}

/** The record extras a session keeps: null when there is nothing to keep. */
export function sessionRecordExtras(
  extras: RecordExtras | null,
  scopes: BudgetScopes | null | undefined,
): SessionRecordExtras | null {
  const named = namesScopes(scopes) ? scopes : undefined;
  if (!extras && !named) return null;
  return { ...extras, ...(named ? { scopes: named } : {}) };
}

/** The counts a settlement records: the total, and each kind when the caller split them. */
export function settlementTokens(counts: TokenCounts): Required<SettlementTokens> {
  return { tokens: counts.total, ...splitFields(counts.split) };
}

/** Where a settlement's counts came from, as its usage record keeps it. */
export interface SettlementSource {
  usageSource: UsageSource;
  termination: Termination | null;
  providerUsage: ProviderUsage | null;
  serviceTier: string | null;
  units: Units | null;
}

/** A settlement that is no caller's (an expiry, a release): no provider usage, nothing reported. */
export const ESTIMATED = { usageSource: 'estimated', termination: null, providerUsage: null } as const;

/** The source of a finalize's or an abort's counts: the provider's usage, the caller's counts, or none (an abort). */
export function sourceOf(
  dto: { providerUsage?: ProviderUsage; termination?: Termination },
  counted: boolean,
  dimensions: Dimensions,
): SettlementSource {
  const usageSource = dto.providerUsage !== undefined ? 'provider' : counted ? 'reported' : 'estimated';
  return { usageSource, termination: dto.termination ?? null, providerUsage: dto.providerUsage ?? null, ...dimensions };
}

/** What a settlement request keeps of its source, for telling a retry from another request. */
export function requestSource(
  dto: { providerUsage?: ProviderUsage; termination?: Termination },
  dimensions: Dimensions,
) {
  return { format: dto.providerUsage?.format ?? null, termination: dto.termination ?? null, ...dimensions };
}

/** A settlement's values known before its statement. */
export interface SettlementPlan {
  status: SettledStatus;
  request: SettlementRequest;
  /** The tokens billed: the reported ones, or the estimate for an expiry. */
  tokens: Required<SettlementTokens>;
  source: SettlementSource;
  createdBy: string;
  /** Metadata known beforehand (the statement adds the amounts and the duration). */
  metadata: Record<string, unknown>;
  /** The record's service when not the status's `chat-streaming…` name. */
  service?: string;
}
