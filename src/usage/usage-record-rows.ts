import { billedUser, payingOrgOf } from '../accounts/account-ref.js';
import type { ResolvedAccount } from '../auth/account-access.js';
import type { BudgetScopes } from '../common/validation/budget-scopes.js';
import type { PriceSource } from '../pricing/catalog/catalog-pricing.js';
import type { Units } from '../pricing/dimensions.js';
import type { ProviderUsage, Termination, UsageSource } from '../pricing/provider-usage.js';
import { kindList, perField, tokenColumn, tokenField, type TokenFields } from '../pricing/token-kinds.js';
import type { VolumeCharge } from '../pricing/volume-steps.js';
import type { UsageRecordResponseDto } from './dto/record-usage.dto.js';

/** A usage record as inserted, and its answer: from the insert's input, or as read (RECORD_ANSWER_COLUMNS). */
export type BillingStatus = 'billed' | 'needs_review';
export type ReviewStatus = 'open' | 'resolved';

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
  /** The catalogue entry that priced it (null or absent: a rule, the default, or credits given). */
  priceSource?: PriceSource | null;
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

/**
 * The answer of the record a take's statement wrote: its input, and what the INSERT returned, in the
 * answer's field order (as RECORD_ANSWER_COLUMNS reads it back); `scopes` undefined when it names none,
 * which JSON leaves out.
 */
export function insertedRecord(
  input: CreateUsageRecordInput & { id: string },
  row: InsertedRecordSqlRow,
): UsageRecordResponseDto {
  return {
    id: input.id,
    userId: billedUser(input.account),
    timestamp: row.timestamp.toISOString(),
    occurredAt: (input.occurredAt === undefined ? row.timestamp : new Date(input.occurredAt)).toISOString(),
    service: input.service,
    operation: input.operation,
    credits: row.credits ?? input.credits,
    modelId: input.modelId ?? null,
    tokens: input.tokens ?? null,
    ...perField((kind) => input[tokenField(kind)] ?? null),
    metadata: row.metadata,
    pricingRuleId: input.pricingRuleId ?? null,
    priceSource: input.priceSource ?? null,
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
    scopes: input.scopes || undefined,
  };
}

/**
 * A record's answer before its statement writes it, as JSON: insertedRecord() without what the
 * statement decides (its time, credits, metadata and provider usage as stored, its volume step), and
 * without `occurredAt` when the input names none (it is then the record's time). An Idempotency-Key's
 * stored answer is this completed by the statement that writes the record (KEYED_PARTS.stored), where
 * jsonb orders the keys, so this order is free. Made whole, not insertedRecord()'s answer with keys
 * deleted: an object a key was deleted from is a dictionary to V8, slower to fill and to serialize.
 */
export function answerTemplate(input: CreateUsageRecordInput & { id: string }): Record<string, unknown> {
  const body: Record<string, unknown> = {
    id: input.id,
    userId: billedUser(input.account),
    service: input.service,
    operation: input.operation,
    modelId: input.modelId ?? null,
    tokens: input.tokens ?? null,
    ...perField((kind) => input[tokenField(kind)] ?? null),
    pricingRuleId: input.pricingRuleId ?? null,
    priceSource: input.priceSource ?? null,
    ...statusOf(input),
    usageSource: input.usageSource ?? 'reported',
    termination: input.termination ?? null,
    apiKeyId: input.apiKeyId ?? null,
    actorId: input.actorId ?? null,
    orgId: payingOrgOf(input.account),
    accountPriceId: input.accountPriceId ?? null,
    serviceTier: input.serviceTier ?? null,
    units: input.units ?? null,
  };
  if (input.occurredAt !== undefined) body.occurredAt = new Date(input.occurredAt).toISOString();
  if (input.scopes) body.scopes = input.scopes;
  return body;
}

/** An instant as the answers write it (Date.toISOString(): milliseconds, truncated as node-postgres reads them). */
export const isoMillis = (column: string) => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/** A record's catalogue price as its `priceSource` (null: priced otherwise); a key lookup only when it names a price. */
const PRICE_SOURCE_SQL = `(SELECT json_build_object('catalog', s.version, 'model', c.catalog_model)
     FROM price_catalog_prices c JOIN price_catalog_sets s ON s.id = c.set_id WHERE c.id = pricing_rule_id)`;

/**
 * A record as its answer (UsageRecordResponseDto), read under the answer's field names in its order,
 * so a row is the answer as it is, with no object made per row: the answer's mapper is the SQL (pass
 * the rows through answered(), for `scopes`). Its scopes in their order (json, not jsonb, which
 * sorts keys), null when it names none. Read from `usage_records` (its `"timestamp"` column is
 * qualified where the statement orders by it: an ORDER BY name is the answer's string first).
 */
export const RECORD_ANSWER_COLUMNS = `id, user_id AS "userId", ${isoMillis('"timestamp"')} AS "timestamp",
  ${isoMillis('occurred_at')} AS "occurredAt", service, operation, credits, model_id AS "modelId", tokens,
  ${kindList((kind) => `${tokenColumn(kind)} AS "${tokenField(kind)}"`)}, metadata, pricing_rule_id AS "pricingRuleId",
  ${PRICE_SOURCE_SQL} AS "priceSource",
  billing_status AS "billingStatus", review_status AS "reviewStatus", usage_source AS "usageSource", termination,
  provider_usage AS "providerUsage", api_key_id AS "apiKeyId", actor_id AS "actorId", org_id AS "orgId",
  account_price_id AS "accountPriceId", service_tier AS "serviceTier", units, volume_step AS "volumeStep",
  CASE WHEN NULLIF(scope_project, '') IS NOT NULL OR cardinality(scope_tags) > 0 OR NULLIF(scope_run, '') IS NOT NULL
         OR NULLIF(scope_session, '') IS NOT NULL
       THEN json_strip_nulls(json_build_object('project', NULLIF(scope_project, ''),
                                               'tag', CASE WHEN cardinality(scope_tags) > 0 THEN scope_tags END,
                                               'run', NULLIF(scope_run, ''), 'session', NULLIF(scope_session, ''))) END AS scopes`;

/**
 * A record read as its answer (RECORD_ANSWER_COLUMNS): the row is the answer, but for `scopes`,
 * which SQL reads as null when the record names none and the answer leaves out (JSON drops an
 * undefined field: no object more per row).
 */
export function answered<T extends UsageRecordResponseDto>(
  row: Omit<T, 'scopes'> & { scopes?: BudgetScopes | null },
): T {
  if (row.scopes === null) row.scopes = undefined;
  return row as T;
}
