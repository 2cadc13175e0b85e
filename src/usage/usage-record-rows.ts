import { billedUser, payingOrgOf } from '../accounts/account-ref.js';
import type { ResolvedAccount } from '../auth/account-access.js';
import { type BudgetScopes, scopesOf } from '../engine/budget-scopes.js';
import type { Units } from '../pricing/dimensions.js';
import type { ProviderUsage, Termination, UsageSource } from '../pricing/provider-usage.js';
import { perField, tokenColumn, type TokenColumns, tokenField, type TokenFields } from '../pricing/token-kinds.js';
import type { VolumeCharge } from '../pricing/volume-steps.js';
import type { UsageRecordResponseDto } from './dto/record-usage.dto.js';

/** A usage record's row types and their mappers: as stored, as inserted, as answered. */
export type BillingStatus = 'billed' | 'needs_review';
export type ReviewStatus = 'open' | 'resolved';

/** A usage record as stored (camelCase); `providerCost` is a decimal string. */
export interface UsageRecordRow extends TokenFields<number | null> {
  id: string;
  userId: string;
  timestamp: Date;
  /** When the usage happened (the write's occurredAt, else timestamp). */
  occurredAt: Date;
  service: string;
  operation: string;
  credits: number;
  modelId: string | null;
  tokens: number | null;
  metadata: Record<string, unknown> | null;
  pricingRuleId: string | null;
  providerCost: string | null;
  billingStatus: BillingStatus;
  /** The review of a shortfall: null (none), open, or resolved. */
  reviewStatus: ReviewStatus | null;
  usageSource: UsageSource;
  termination: Termination | null;
  providerUsage: ProviderUsage | null;
  /** The API key that wrote it (null: a JWT, the system, or before this was kept). */
  apiKeyId: string | null;
  /** Who wrote it when not the billed user: the JWT's user or the key's owner. */
  actorId: string | null;
  /** The organisation that paid (userId: the member who used it); null: the user's own account. */
  orgId: string | null;
  /** The account price that priced it with the rule; null: none. */
  accountPriceId: string | null;
  /** The service tier it was priced at (null: the base prices) and the units priced (null: none). */
  serviceTier: string | null;
  units: Units | null;
  /** The volume step that priced its last token, from 0 (null: the rule has no steps). */
  volumeStep: number | null;
  /** The budget scopes the write named (null: none). */
  scopes: BudgetScopes | null;
}

export interface CreateUsageRecordInput extends Partial<TokenFields<number | null>> {
  /**
   * The account that pays, with the member who spends an organisation's (the payer's): the record's
   * `user_id` is the billed user (billedUser()), its `org_id` the organisation (payingOrgOf()).
   */
  account: Pick<ResolvedAccount, 'kind' | 'ownerId' | 'memberId'>;
  service: string;
  operation: string;
  credits: number;
  modelId?: string | null;
  tokens?: number | null;
  metadata?: object;
  pricingRuleId?: string | null;
  providerCost?: string | null;
  billingStatus?: BillingStatus;
  /** What could not be collected: the record goes to the review queue. */
  shortfall?: number;
  /** The API key that wrote it. */
  apiKeyId?: string | null;
  /** Who wrote it, when not the billed user. */
  actorId?: string | null;
  id?: string;
  /** Default `reported`. */
  usageSource?: UsageSource;
  termination?: Termination | null;
  /** The providerUsage as sent (usageSource `provider`). */
  providerUsage?: ProviderUsage | null;
  /** The id of the account that pays, resolved at the edge with the payer (null or absent: none). */
  accountId?: string | null;
  /** The credits were given, not priced from tokens. */
  creditsNamed?: boolean;
  /** The request that wrote it, kept when the record is an audit entry (credits named, `actorId` set). */
  requestId?: string | null;
  /** The account price that priced it with the rule. */
  accountPriceId?: string | null;
  serviceTier?: string | null;
  units?: Units | null;
  /** When the usage happened, as given (ISO); absent: when it is written. */
  occurredAt?: string;
  /** Its rule's volume steps: the take decides its credits (null or absent: `credits`). */
  volume?: VolumeCharge | null;
  /** The budget scopes the write names (docs/budgets.md). */
  scopes?: BudgetScopes | null;
}

export interface RecordSqlRow extends TokenColumns<number | null> {
  id: string;
  user_id: string;
  timestamp: Date;
  occurred_at: Date;
  ts_key: string;
  service: string;
  operation: string;
  credits: number;
  model_id: string | null;
  tokens: number | null;
  metadata: Record<string, unknown> | null;
  pricing_rule_id: string | null;
  provider_cost: string | null;
  billing_status: BillingStatus;
  review_status: ReviewStatus | null;
  usage_source: UsageSource;
  termination: Termination | null;
  provider_usage: ProviderUsage | null;
  api_key_id: string | null;
  actor_id: string | null;
  org_id: string | null;
  account_price_id: string | null;
  service_tier: string | null;
  units: Units | null;
  volume_step: number | null;
  scope_project?: string | null;
  scope_tags?: string[] | null;
  scope_run?: string | null;
  scope_session?: string | null;
}

/** A record's billing and review status: a shortfall sends it to review (needs_review, review open). */
function statusOf(input: CreateUsageRecordInput): { billingStatus: BillingStatus; reviewStatus: ReviewStatus | null } {
  const shortfall = input.shortfall ?? 0;
  return { billingStatus: input.billingStatus ?? 'billed', reviewStatus: shortfall > 0 ? 'open' : null };
}

/**
 * What the record's INSERT in the take's statement returns: only what the database sets (its clock) or
 * rewrites (the metadata and the provider's usage, stored as jsonb); the rest is what was inserted. Every column more is
 * parsed and mapped on every metered debit, the route every chat message calls.
 */
export interface InsertedRecordSqlRow {
  timestamp: Date;
  metadata: Record<string, unknown> | null;
  provider_usage: ProviderUsage | null;
  /** The credits the take decided (a rule with volume steps) and the step. */
  credits?: number;
  volume_step?: number | null;
}

/** The record a take's statement wrote: its input, and what the INSERT returned. */
export function insertedRecord(
  input: CreateUsageRecordInput & { id: string },
  row: InsertedRecordSqlRow,
): UsageRecordRow {
  return {
    id: input.id,
    userId: billedUser(input.account),
    timestamp: row.timestamp,
    occurredAt: input.occurredAt === undefined ? row.timestamp : new Date(input.occurredAt),
    service: input.service,
    operation: input.operation,
    credits: row.credits ?? input.credits,
    modelId: input.modelId ?? null,
    tokens: input.tokens ?? null,
    ...perField((kind) => input[tokenField(kind)] ?? null),
    metadata: row.metadata,
    pricingRuleId: input.pricingRuleId ?? null,
    providerCost: input.providerCost ?? null,
    ...statusOf(input),
    usageSource: input.usageSource ?? 'reported',
    termination: input.termination ?? null,
    providerUsage: row.provider_usage,
    apiKeyId: input.apiKeyId ?? null,
    actorId: input.actorId ?? null,
    orgId: payingOrgOf(input.account),
    accountPriceId: input.accountPriceId ?? null,
    serviceTier: input.serviceTier ?? null,
    units: input.units ?? null,
    volumeStep: row.volume_step ?? null,
    scopes: input.scopes ?? null,
  };
}

export function toRow(r: RecordSqlRow): UsageRecordRow {
  return {
    id: r.id,
    userId: r.user_id,
    timestamp: r.timestamp,
    occurredAt: r.occurred_at,
    service: r.service,
    operation: r.operation,
    credits: r.credits,
    modelId: r.model_id,
    tokens: r.tokens,
    ...perField((kind) => r[tokenColumn(kind)]),
    metadata: r.metadata,
    pricingRuleId: r.pricing_rule_id,
    providerCost: r.provider_cost,
    billingStatus: r.billing_status,
    reviewStatus: r.review_status,
    usageSource: r.usage_source,
    termination: r.termination,
    providerUsage: r.provider_usage,
    apiKeyId: r.api_key_id,
    actorId: r.actor_id,
    orgId: r.org_id,
    accountPriceId: r.account_price_id,
    serviceTier: r.service_tier,
    units: r.units,
    volumeStep: r.volume_step,
    scopes: scopesOf(r),
  };
}

/** The public shape of a record (provider cost is internal: it appears only in admin margins). */
export function toRecordDto(row: UsageRecordRow): UsageRecordResponseDto {
  return {
    id: row.id,
    userId: row.userId,
    timestamp: row.timestamp.toISOString(),
    occurredAt: row.occurredAt.toISOString(),
    service: row.service,
    operation: row.operation,
    credits: row.credits,
    modelId: row.modelId,
    tokens: row.tokens,
    ...perField((kind) => row[tokenField(kind)]),
    metadata: row.metadata,
    pricingRuleId: row.pricingRuleId,
    billingStatus: row.billingStatus,
    reviewStatus: row.reviewStatus,
    usageSource: row.usageSource,
    termination: row.termination,
    providerUsage: row.providerUsage,
    apiKeyId: row.apiKeyId,
    actorId: row.actorId,
    orgId: row.orgId,
    accountPriceId: row.accountPriceId,
    serviceTier: row.serviceTier,
    units: row.units,
    volumeStep: row.volumeStep,
    ...(row.scopes ? { scopes: row.scopes } : {}),
  };
}
