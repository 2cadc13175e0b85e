import type { SqlPart } from '../database/statement-parts.js';
import { TOKEN_KINDS, tokenColumn, tokenField, type TokenFields } from '../pricing/token-kinds.js';
import type { CreateUsageRecordInput } from './usage-record-rows.js';

/**
 * A usage record inserted inside another module's statement (a streaming settlement): what it knows
 * beforehand, and the INSERT's text (UsageRecordsRepository.insertInStatement, insertManyInStatement).
 */

/** A record's token counts: the total and each kind (null: not given). */
type TokenCountField = 'tokens' | keyof TokenFields<number>;
/** Where a record's counts came from and how its stream ended. */
type SourceColumn = 'usageSource' | 'termination' | 'providerUsage' | 'serviceTier' | 'units';

/** What a record inserted inside another module's statement knows only there: SQL over its CTEs. */
export interface RecordInStatement {
  /** The FROM clause of the INSERT … SELECT (at most one row). */
  from: string;
  /**
   * The alias of the row in `from` that names the account that paid, as a record does: its
   * `user_id` (the billed user: the member of an org's), `org_id` (null: the user's own account)
   * and `account_id` (the engine's id, as the statement's money part read it).
   */
  account: string;
  operation: string;
  modelId: string;
  credits: string;
  pricingRuleId: string;
  providerCost: string;
  shortfall: string;
  /** The API key that wrote it (uuid) and who, when not the billed user (varchar). */
  apiKeyId: string;
  actorId: string;
  /** The account price that priced it with the rule (uuid; absent: none). */
  accountPriceId?: string;
  /** The budget scopes it names, as jsonb `{project?, tag?, run?, session?}` (absent or null: none). */
  scopes?: string;
  /** The volume step that priced its last token (smallint; absent: none). */
  volumeStep?: string;
  /** A jsonb object merged over the metadata known beforehand, with its own parameters. */
  metadata: SqlPart;
}

/** What a record inserted in another module's statement knows beforehand. */
export type KnownRecord = Required<Pick<CreateUsageRecordInput, 'id' | 'service' | TokenCountField | SourceColumn>> & {
  metadata: object;
};

/** The known values of a record inserted in another module's statement, as SQL (parameters or input columns). */
export interface KnownSql {
  id: string;
  service: string;
  tokens: string;
  metadata: string;
  kinds: string[];
  usageSource: string;
  termination: string;
  providerUsage: string;
  serviceTier: string;
  units: string;
}

/**
 * The INSERT of a record in another module's statement, its known values given as SQL. A shortfall
 * opens a review (needs_review, review open), as recordParams does. A settlement is priced from
 * tokens: it names no credits and is no audit entry.
 */
export function recordInsertSql(columns: string, known: KnownSql, sql: RecordInStatement): string {
  const shortfall = `(${sql.shortfall})`;
  const scopes = `(${sql.scopes ?? 'NULL::jsonb'})`;
  return `INSERT INTO usage_records (${columns}, scope_project, scope_tags, scope_run, scope_session, volume_step, account_id)
            SELECT ${known.id}, ${sql.account}.user_id, ${known.service}, ${sql.operation}, (${sql.credits})::int, ${sql.modelId},
                   ${known.tokens}, ${known.metadata}, ${sql.pricingRuleId},
                   ${sql.providerCost}, CASE WHEN ${shortfall} > 0 THEN 'needs_review' ELSE 'billed' END,
                   ${shortfall}::int, CASE WHEN ${shortfall} > 0 THEN 'open' END,
                   ${known.kinds.join(', ')},
                   ${known.usageSource}, ${known.termination}, ${known.providerUsage}, ${sql.apiKeyId}, ${sql.actorId},
                   ${sql.account}.org_id, false, NULL, ${sql.accountPriceId ?? 'NULL'}::uuid,
                   ${known.serviceTier}, ${known.units}, ${scopes} ->> 'project',
                   CASE WHEN jsonb_array_length(${scopes} -> 'tag') > 0
                        THEN ARRAY(SELECT jsonb_array_elements_text(${scopes} -> 'tag'))::varchar(200)[] END,
                   ${scopes} ->> 'run', ${scopes} ->> 'session', (${sql.volumeStep ?? 'NULL'})::smallint,
                   (${sql.account}.account_id)::bigint
              FROM ${sql.from}
            RETURNING id AS usage_record_id`;
}

/** The input columns insertManyInStatement reads (column definitions of the statement's `input`). */
export const RECORD_INPUT_COLUMNS = `record_id uuid, record_service varchar, record_tokens int, record_metadata jsonb,
  ${TOKEN_KINDS.map((kind) => `record_${tokenColumn(kind)} int`).join(', ')}, record_usage_source varchar,
  record_termination varchar, record_provider_usage jsonb, record_service_tier varchar, record_units jsonb`;

/** A record's known values as the input row's fields insertManyInStatement reads. */
export function recordInput(known: KnownRecord): Record<string, unknown> {
  const row: Record<string, unknown> = {
    record_id: known.id,
    record_service: known.service,
    record_tokens: known.tokens,
    record_metadata: known.metadata,
    record_usage_source: known.usageSource,
    record_termination: known.termination,
    record_provider_usage: known.providerUsage,
    record_service_tier: known.serviceTier,
    record_units: known.units,
  };
  for (const kind of TOKEN_KINDS) row[`record_${tokenColumn(kind)}`] = known[tokenField(kind)];
  return row;
}
