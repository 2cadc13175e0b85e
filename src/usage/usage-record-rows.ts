import type { UsageRecordResponseDto } from './dto/record-usage.dto.js';

/** usage_records' rows as read (snake_case, RecordSqlRow) and as the module uses them, and their views. */
export type BillingStatus = 'billed' | 'needs_review';
export type ReviewStatus = 'open' | 'resolved';

/** A usage record as stored (camelCase); `providerCost` is a decimal string. */
export interface UsageRecordRow {
  id: string;
  userId: string;
  timestamp: Date;
  service: string;
  operation: string;
  credits: number;
  modelId: string | null;
  tokens: number | null;
  inputTokens: number | null;
  outputTokens: number | null;
  cacheReadTokens: number | null;
  cacheWriteTokens: number | null;
  reasoningTokens: number | null;
  metadata: Record<string, unknown> | null;
  pricingRuleId: string | null;
  providerCost: string | null;
  billingStatus: BillingStatus;
  /** The review of a shortfall: null (none), open, or resolved. */
  reviewStatus: ReviewStatus | null;
  /** The API key that wrote it (null: a JWT, the system, or before this was kept). */
  apiKeyId: string | null;
  /** Who wrote it when not the billed user: the JWT's user or the key's owner. */
  actorId: string | null;
}

export interface RecordSqlRow {
  id: string;
  user_id: string;
  timestamp: Date;
  ts_key: string;
  service: string;
  operation: string;
  credits: number;
  model_id: string | null;
  tokens: number | null;
  input_tokens: number | null;
  output_tokens: number | null;
  cache_read_tokens: number | null;
  cache_write_tokens: number | null;
  reasoning_tokens: number | null;
  metadata: Record<string, unknown> | null;
  pricing_rule_id: string | null;
  provider_cost: string | null;
  billing_status: BillingStatus;
  review_status: ReviewStatus | null;
  api_key_id: string | null;
  actor_id: string | null;
}

export function toRow(r: RecordSqlRow): UsageRecordRow {
  return {
    id: r.id,
    userId: r.user_id,
    timestamp: r.timestamp,
    service: r.service,
    operation: r.operation,
    credits: r.credits,
    modelId: r.model_id,
    tokens: r.tokens,
    inputTokens: r.input_tokens,
    outputTokens: r.output_tokens,
    cacheReadTokens: r.cache_read_tokens,
    cacheWriteTokens: r.cache_write_tokens,
    reasoningTokens: r.reasoning_tokens,
    metadata: r.metadata,
    pricingRuleId: r.pricing_rule_id,
    providerCost: r.provider_cost,
    billingStatus: r.billing_status,
    reviewStatus: r.review_status,
    apiKeyId: r.api_key_id,
    actorId: r.actor_id,
  };
}

/** The public shape of a record (provider cost is internal: it appears only in admin margins). */
export function toRecordDto(row: UsageRecordRow): UsageRecordResponseDto {
  return {
    id: row.id,
    userId: row.userId,
    timestamp: row.timestamp.toISOString(),
    service: row.service,
    operation: row.operation,
    credits: row.credits,
    modelId: row.modelId,
    tokens: row.tokens,
    inputTokens: row.inputTokens,
    outputTokens: row.outputTokens,
    cacheReadTokens: row.cacheReadTokens,
    cacheWriteTokens: row.cacheWriteTokens,
    reasoningTokens: row.reasoningTokens,
    metadata: row.metadata,
    pricingRuleId: row.pricingRuleId,
    billingStatus: row.billingStatus,
    reviewStatus: row.reviewStatus,
    apiKeyId: row.apiKeyId,
    actorId: row.actorId,
  };
}
