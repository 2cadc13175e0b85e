import { Check, Column, Entity, ForeignKey, Index, PrimaryColumn } from 'typeorm';

import { Account } from '../../accounts/entities/account.entity.js';
import { PayerKindColumn } from '../../accounts/entities/payer-kind-column.js';
import { UserAccount } from '../../accounts/entities/user-account.entity.js';
import { TimestampColumn } from '../../database/timestamp-column.js';
import { TokenCountColumn } from '../../pricing/entities/columns.js';
import { kindList, tokenColumn } from '../../pricing/token-kinds.js';

/**
 * One metered event (migration 1732000002000). Statement triggers (migration 1732000002100, not
 * modelled by TypeORM) append every change to the daily rollups' pending deltas. Its checks but the
 * counts' (a provider cost of at least 0, known billing and review states, resolution, usage source
 * and termination, the provider's usage exactly with that source) are the trigger usage_records_check
 * (migration 1732008207000: CHECKs cost every statement that writes a record).
 */
@Entity({ name: 'usage_records' })
// Every count at least 0 (NULL passes): one check for all, read at each write (migration 1732004900000).
@Check('usage_records_counts_check', `LEAST(credits, tokens, ${kindList(tokenColumn)}, shortfall) >= 0`)
// Descending keys with INCLUDE columns TypeORM cannot describe; the migration keeps them,
// test/schema-drift.e2e-spec.ts checks them.
@Index('usage_records_user_time_idx', { synchronize: false })
@Index('usage_records_time_idx', { synchronize: false })
// An account's records newest first (migration 1732007800000): every read of an account's records.
@Index('usage_records_account_time_idx', { synchronize: false })
@Index('usage_records_review_queue_idx', { synchronize: false })
@Index('usage_records_audit_idx', ['timestamp', 'id'], { where: 'credits_named AND actor_id IS NOT NULL' })
@Index('usage_records_occurred_idx', ['occurredAt', 'id'])
@Index('usage_records_dimensions_idx', ['timestamp'], { where: 'service_tier IS NOT NULL OR units IS NOT NULL' })
// BRIN on created_xid (migration 1732000600000), for the Parquet exports: @Index has no method.
@Index('usage_records_created_xid_brin', { synchronize: false })
// The payer ties (migration 1732008000000): a user's row is charged to that user's own account, an
// organisation's (whose `user_id` is the member who spent) to the organisation's.
@ForeignKey(() => Account, ['accountId', 'userId', 'payerKind'], ['accountId', 'userId', 'kind'], {
  name: 'usage_records_account_user_fkey',
})
@ForeignKey(() => Account, ['accountId', 'orgId'], ['accountId', 'orgId'], { name: 'usage_records_account_org_fkey' })
export class UsageRecord {
  /** Time-ordered (uuid_v7(); migration 1732000038300): the table only grows. */
  @PrimaryColumn({ type: 'uuid', default: () => 'uuid_v7()', primaryKeyConstraintName: 'usage_records_pkey' })
  id: string;

  @ForeignKey(() => UserAccount, { name: 'usage_records_user_id_fkey' })
  @Column({ name: 'user_id', type: 'varchar', length: 50 })
  userId: string;

  @TimestampColumn('timestamp', { defaultNow: true })
  timestamp: Date;

  @Column({ type: 'varchar', length: 50 })
  service: string;

  @Column({ type: 'varchar', length: 100 })
  operation: string;

  @Column({ type: 'integer' })
  credits: number;

  @Column({ name: 'model_id', type: 'varchar', length: 100, nullable: true })
  modelId: string | null;

  @Column({ type: 'integer', nullable: true })
  tokens: number | null;

  @TokenCountColumn('input_tokens')
  inputTokens: number | null;

  @TokenCountColumn('output_tokens')
  outputTokens: number | null;

  @Column({ type: 'jsonb', nullable: true })
  metadata: Record<string, unknown> | null;

  @Column({ name: 'pricing_rule_id', type: 'uuid', nullable: true })
  pricingRuleId: string | null;

  /** numeric: kept as a string, never a float. */
  @Column({ name: 'provider_cost', type: 'numeric', precision: 24, scale: 8, nullable: true })
  providerCost: string | null;

  @Column({ name: 'billing_status', type: 'varchar', length: 20, default: 'billed' })
  billingStatus: 'billed' | 'needs_review';

  /** What a settlement could not collect (the review queue's amount). */
  @Column({ type: 'integer', default: 0 })
  shortfall: number;

  /** open while a needs_review record waits for a person; resolved afterwards (null: never needed). */
  @Column({ name: 'review_status', type: 'varchar', length: 10, nullable: true })
  reviewStatus: 'open' | 'resolved' | null;

  @Column({ type: 'varchar', length: 10, nullable: true })
  resolution: 'write_off' | 'collect' | null;

  @Column({ name: 'resolved_by', type: 'varchar', length: 50, nullable: true })
  resolvedBy: string | null;

  @TimestampColumn('resolved_at', { nullable: true })
  resolvedAt: Date | null;

  @Column({ name: 'resolution_note', type: 'varchar', length: 500, nullable: true })
  resolutionNote: string | null;

  // Token kinds (migration 1732000021000): null when not given (and on records before it).
  @TokenCountColumn('cache_read_tokens')
  cacheReadTokens: number | null;

  @TokenCountColumn('cache_write_tokens')
  cacheWriteTokens: number | null;

  @TokenCountColumn('reasoning_tokens')
  reasoningTokens: number | null;

  // Who acted (migration 1732000027000): null on records before it.
  /** The API key that wrote the record (null: a JWT, or the system). */
  @Column({ name: 'api_key_id', type: 'uuid', nullable: true })
  apiKeyId: string | null;

  /** The principal that wrote it when not the billed user (a JWT's user, a key's owner). */
  @Column({ name: 'actor_id', type: 'varchar', length: 50, nullable: true })
  actorId: string | null;

  // Provider usage (migration 1732000029000): where the counts came from, how a stream ended, and the
  // provider's usage object as sent (records before it: reported, or estimated for an expiry).
  @Column({ name: 'usage_source', type: 'varchar', length: 10, default: 'reported' })
  usageSource: 'provider' | 'reported' | 'estimated';

  @Column({ type: 'varchar', length: 20, nullable: true })
  termination: 'completed' | 'max_tokens' | 'client_abort' | 'upstream_error' | null;

  @Column({ name: 'provider_usage', type: 'jsonb', nullable: true })
  providerUsage: { format: string; usage: Record<string, unknown> } | null;

  /** The organisation charged, when the user used it as a member (then `userId` names the member). */
  @Column({ name: 'org_id', type: 'varchar', length: 50, nullable: true })
  orgId: string | null;

  // Metering is its own audit trail (migration 1732000040000): a record that names credits, written by
  // a principal for another account (`actorId` set), is the `usage.record` audit entry itself.
  /** The credits were given in the body, not priced from tokens. */
  @Column({ name: 'credits_named', type: 'boolean', default: false })
  creditsNamed: boolean;

  /** The X-Request-Id that wrote it, kept on the records that are audit entries (null elsewhere). */
  @Column({ name: 'request_id', type: 'varchar', length: 128, nullable: true })
  requestId: string | null;

  /** The account price that priced it with the model's rule (migration 1732000044000); null: none. */
  @Column({ name: 'account_price_id', type: 'uuid', nullable: true })
  accountPriceId: string | null;

  // Pricing dimensions (migration 1732000400000): the service tier and the units it was priced with.
  /** The tier named by the write (null: the base prices). */
  @Column({ name: 'service_tier', type: 'varchar', length: 32, nullable: true })
  serviceTier: string | null;

  /** `{"<unit>": count}` (null: none). */
  @Column({ type: 'jsonb', nullable: true })
  units: Record<string, number> | null;

  /**
   * The transaction that inserted the row (migration 1732000600000): what places it in exactly one
   * Parquet export (docs/exports.md). Null for rows older than the exports.
   */
  @Column({
    name: 'created_xid',
    type: 'bigint',
    nullable: true,
    default: () => 'txid_current()',
  })
  createdXid: string | null;

  /**
   * When the usage happened (migration 1732000810000): the write's `occurredAt`, else `timestamp` (a row
   * inserted without it takes its `timestamp`: the trigger usage_records_occurred_at()).
   * Stats, lists' date filters, simulations and re-rates place the record here; money books at `timestamp`.
   */
  @TimestampColumn('occurred_at')
  occurredAt: Date;

  // Budget scopes (migration 1732001800000, docs/budgets.md): what the write named (null: nothing).
  @Column({ name: 'scope_project', type: 'varchar', length: 200, nullable: true })
  scopeProject: string | null;

  @Column({ name: 'scope_tags', type: 'varchar', length: 200, array: true, nullable: true })
  scopeTags: string[] | null;

  @Column({ name: 'scope_run', type: 'varchar', length: 200, nullable: true })
  scopeRun: string | null;

  @Column({ name: 'scope_session', type: 'varchar', length: 200, nullable: true })
  scopeSession: string | null;

  /** The volume step that priced its last token, from 0 (migration 1732001850000; null: no steps). */
  @Column({ name: 'volume_step', type: 'smallint', nullable: true })
  volumeStep: number | null;

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
