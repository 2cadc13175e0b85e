import { Check, Column, Entity, ForeignKey, Index, PrimaryColumn } from 'typeorm';

import { Account } from '../../accounts/entities/account.entity.js';
import { PayerKindColumn } from '../../accounts/entities/payer-kind-column.js';
import { UserAccount } from '../../accounts/entities/user-account.entity.js';
import { TimestampColumn } from '../../database/timestamp-column.js';
import { TokenCountColumn } from '../../pricing/entities/columns.js';
import { kindList, TOKEN_KINDS, tokenColumn, type TokenFields, type TokenKind } from '../../pricing/token-kinds.js';

export const SESSION_STATUSES = ['active', 'completed', 'failed', 'aborted', 'expired'] as const;
export type SessionStatus = (typeof SESSION_STATUSES)[number];

/** The request that settled a session and the answer it got, kept so a retry can be replayed. */
/**
 * The request a settlement was made for (a retry of the same request is answered again). The answer
 * is built from the row's columns (settlement.ts); older settlements also stored it here as
 * `response`, which nothing reads any more.
 */
export interface SessionSettlement {
  request: SettlementRequest;
}

/** The counts a settlement was asked with: the total, and each kind when split (settlements before token kinds lack the new ones). */
export interface SettlementTokens extends Partial<TokenFields<number | null>> {
  tokens: number;
  inputTokens: number | null;
  outputTokens: number | null;
}

/**
 * How the counts were given and how the stream ended (settlements before provider usage lack them:
 * token counts, no termination).
 */
export interface SettlementSource {
  /** The providerUsage's format, when the counts were given that way. */
  format?: string | null;
  termination?: string | null;
  /** The tier and the units it was settled with (settlements before them lack both: none). */
  serviceTier?: string | null;
  units?: Record<string, number> | null;
}

export type SettlementRequest =
  | ({ kind: 'finalize'; success: boolean } & SettlementTokens & SettlementSource)
  | ({ kind: 'abort' } & SettlementTokens & SettlementSource)
  | { kind: 'expire' };

/** A kind's estimate column: `estimated_cache_read_tokens`. */
const estimated = (kind: TokenKind) => `estimated_${tokenColumn(kind)}`;

/**
 * One streaming session (migration 1732000003000); written with SQL by StreamingSessionsRepository.
 * Its checks but the two made from the token kinds' list (a known status, a hold of at least the
 * estimate and a refund within it, an expiry after the start, the settlement's five columns set
 * exactly when it is settled, its record's extras an object) are the trigger streaming_sessions_check
 * (migration 1732008207000: CHECKs cost every initialize and every settlement).
 */
@Entity({ name: 'streaming_sessions' })
// Every count at least 0 (NULL passes): one check for all, read at each write (migration 1732004900000).
@Check(
  'streaming_sessions_counts_check',
  `LEAST(estimated_tokens, estimated_credits, actual_tokens, actual_credits, refund, shortfall, ${kindList(estimated)}) >= 0`,
)
@Check(
  'streaming_sessions_estimate_split_check',
  `COALESCE(${TOKEN_KINDS.map(estimated).join(' + ')} = estimated_tokens, num_nonnulls(${kindList(estimated)}) = 0)`,
)
@Index('streaming_sessions_expiry_idx', ['expiresAt'], { where: `status = 'active'` })
@Index('streaming_sessions_user_status_idx', ['userId', 'status', 'startedAt'])
@Index('streaming_sessions_active_idx', ['startedAt', 'sessionId'], { where: `status = 'active'` })
// The payer ties (migration 1732008000000): a user's row is charged to that user's own account, an
// organisation's (whose `user_id` is the member who spent) to the organisation's.
@ForeignKey(() => Account, ['accountId', 'userId', 'payerKind'], ['accountId', 'userId', 'kind'], {
  name: 'streaming_sessions_account_user_fkey',
})
@ForeignKey(() => Account, ['accountId', 'orgId'], ['accountId', 'orgId'], {
  name: 'streaming_sessions_account_org_fkey',
})
export class StreamingSession {
  @PrimaryColumn({
    name: 'session_id',
    type: 'varchar',
    length: 100,
    primaryKeyConstraintName: 'streaming_sessions_pkey',
  })
  sessionId: string;

  /** Session ids belong to their user: (session_id, user_id) names a session. */
  @ForeignKey(() => UserAccount, { name: 'streaming_sessions_user_id_fkey' })
  @PrimaryColumn({ name: 'user_id', type: 'varchar', length: 50, primaryKeyConstraintName: 'streaming_sessions_pkey' })
  userId: string;

  @Column({ name: 'model_id', type: 'varchar', length: 100 })
  modelId: string;

  @Column({ name: 'estimated_tokens', type: 'integer' })
  estimatedTokens: number;

  @Column({ name: 'estimated_credits', type: 'integer' })
  estimatedCredits: number;

  @Column({ name: 'allocated_credits', type: 'integer' })
  allocatedCredits: number;

  @Column({ type: 'varchar', length: 20, default: 'active' })
  status: SessionStatus;

  @TimestampColumn('started_at', { defaultNow: true })
  startedAt: Date;

  @TimestampColumn('expires_at')
  expiresAt: Date;

  @TimestampColumn('settled_at', { nullable: true })
  settledAt: Date | null;

  @Column({ name: 'actual_tokens', type: 'integer', nullable: true })
  actualTokens: number | null;

  @Column({ name: 'actual_credits', type: 'integer', nullable: true })
  actualCredits: number | null;

  @Column({ type: 'integer', nullable: true })
  refund: number | null;

  @Column({ type: 'integer', nullable: true })
  shortfall: number | null;

  @Column({ name: 'usage_record_id', type: 'uuid', nullable: true })
  usageRecordId: string | null;

  @Column({ name: 'pricing_rule_id', type: 'uuid', nullable: true })
  pricingRuleId: string | null;

  @Column({ type: 'jsonb', nullable: true })
  settlement: SessionSettlement | null;

  /** The estimate's count of each kind, when it was given split (all five or none; they add up to estimatedTokens). */
  @TokenCountColumn('estimated_input_tokens')
  estimatedInputTokens: number | null;

  @TokenCountColumn('estimated_output_tokens')
  estimatedOutputTokens: number | null;

  @TokenCountColumn('estimated_cache_read_tokens')
  estimatedCacheReadTokens: number | null;

  @TokenCountColumn('estimated_cache_write_tokens')
  estimatedCacheWriteTokens: number | null;

  @TokenCountColumn('estimated_reasoning_tokens')
  estimatedReasoningTokens: number | null;

  // The credential that opened the session (migration 1732000027000): null on sessions before it.
  @Column({ name: 'opened_by', type: 'varchar', length: 50, nullable: true })
  openedBy: string | null;

  @Column({ name: 'opened_by_api_key_id', type: 'uuid', nullable: true })
  openedByApiKeyId: string | null;

  /** The organisation that pays, when the session was opened for it (`userId` is then the member). */
  @Column({ name: 'org_id', type: 'varchar', length: 50, nullable: true })
  orgId: string | null;

  /** The account price that prices it with the model's rule (migration 1732000044000); null: none. */
  @Column({ name: 'account_price_id', type: 'uuid', nullable: true })
  accountPriceId: string | null;

  // Pricing dimensions (migration 1732000400000).
  /** The tier initialize named (`auto`: held at the rule's most expensive tier); null: the base prices. */
  @Column({ name: 'service_tier', type: 'varchar', length: 32, nullable: true })
  serviceTier: string | null;

  /** The estimate's units (`{"<unit>": count}`), held with its tokens; null: none. */
  @Column({ name: 'estimated_units', type: 'jsonb', nullable: true })
  estimatedUnits: Record<string, number> | null;

  /** An in-process caller's record service and metadata (the gateway's), for an expiry to write; null: none. */
  @Column({ name: 'record_extras', type: 'jsonb', nullable: true })
  recordExtras: Record<string, unknown> | null;

  /**
   * The account that paid (migration 1732002400000): the organisation's for its use, else the user's,
   * resolved once at the edge; every later step reads it instead of resolving the owner again. Tied
   * to the payer by the class's two keys (migration 1732008000000).
   */
  @Column({ name: 'account_id', type: 'bigint' })
  accountId: string;

  /** `'user'` where the user pays, else null: the user's tie's third column. */
  @PayerKindColumn()
  payerKind: 'user' | null;
}
