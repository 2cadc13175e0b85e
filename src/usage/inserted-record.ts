// The record the metered debit inserted, answered without reading it back (UsageRecordsRepository
// .insertAfterDebit returns only what the database sets).
import type {
  BillingStatus,
  CreateUsageRecordInput,
  ReviewStatus,
  UsageRecordRow,
} from './usage-records.repository.js';

/** A record's billing and review status: a shortfall sends it to review (needs_review, review open). */
export function statusOf(input: CreateUsageRecordInput): {
  billingStatus: BillingStatus;
  reviewStatus: ReviewStatus | null;
} {
  const shortfall = input.shortfall ?? 0;
  return { billingStatus: input.billingStatus ?? 'billed', reviewStatus: shortfall > 0 ? 'open' : null };
}

/**
 * What the record's INSERT after a debit returns: only what the database sets (its clock) or
 * rewrites (the metadata, stored as jsonb); the rest is what was inserted. Every column more is
 * parsed and mapped on every metered debit, the route every chat message calls.
 */
export interface InsertedRecordSqlRow {
  timestamp: Date;
  metadata: Record<string, unknown> | null;
}

/** The row insertAfterDebit() wrote: its input, as recordParams() stores it, and what it returned. */
export function insertedRecord(
  input: CreateUsageRecordInput & { id: string },
  row: InsertedRecordSqlRow,
): UsageRecordRow {
  return {
    id: input.id,
    userId: input.userId,
    timestamp: row.timestamp,
    service: input.service,
    operation: input.operation,
    credits: input.credits,
    modelId: input.modelId ?? null,
    tokens: input.tokens ?? null,
    inputTokens: input.inputTokens ?? null,
    outputTokens: input.outputTokens ?? null,
    cacheReadTokens: input.cacheReadTokens ?? null,
    cacheWriteTokens: input.cacheWriteTokens ?? null,
    reasoningTokens: input.reasoningTokens ?? null,
    metadata: row.metadata,
    pricingRuleId: input.pricingRuleId ?? null,
    providerCost: input.providerCost ?? null,
    ...statusOf(input),
  };
}
