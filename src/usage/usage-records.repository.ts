import { randomUUID } from 'node:crypto';

import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';

import { type DateRange, rangeSql } from '../common/validation/date-range.js';
import type { InsertAfterTake } from '../credits/credits.repository.js';
import type { BatchTakeStatement } from '../credits/credits-batch.repository.js';
import { ExportConnections } from '../database/export-connections.js';
import { queryReplica } from '../database/replica-reads.js';
import { shiftParams, type SqlPart } from '../database/statement-parts.js';
import { type BillingStatus, type RecordSqlRow, toRow, type UsageRecordRow } from './usage-record-rows.js';

export {
  type BillingStatus,
  type RecordSqlRow,
  type ReviewStatus,
  toRecordDto,
  toRow,
  type UsageRecordRow,
} from './usage-record-rows.js';

/** usage_records: its statements (the row types and mappers: usage-record-rows.ts, re-exported here). */
export interface CreateUsageRecordInput {
  userId: string;
  service: string;
  operation: string;
  credits: number;
  modelId?: string | null;
  tokens?: number | null;
  inputTokens?: number | null;
  outputTokens?: number | null;
  cacheReadTokens?: number | null;
  cacheWriteTokens?: number | null;
  reasoningTokens?: number | null;
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
}

/** A record's token counts: the total and each kind (null: not given). */
type TokenColumn =
  'tokens' | 'inputTokens' | 'outputTokens' | 'cacheReadTokens' | 'cacheWriteTokens' | 'reasoningTokens';

/** What a record inserted inside another module's statement knows only there: SQL over its CTEs. */
export interface RecordInStatement {
  /** The FROM clause of the INSERT … SELECT (at most one row). */
  from: string;
  userId: string;
  operation: string;
  modelId: string;
  credits: string;
  pricingRuleId: string;
  providerCost: string;
  shortfall: string;
  /** The API key that wrote it (uuid) and who, when not the billed user (varchar). */
  apiKeyId: string;
  actorId: string;
  /** A jsonb object merged over the metadata known beforehand, with its own parameters. */
  metadata: SqlPart;
}

/** Which records a list or export reads; `after` is the keyset cursor (newest first). */
export interface RecordsFilter {
  userId?: string;
  service?: string;
  range: DateRange;
  after: { t: string; id: string } | null;
}

/** A server-side cursor in its own read-only snapshot. */
export interface RecordsCursor {
  fetch(n: number): Promise<RecordSqlRow[]>;
  /** Ends the snapshot after the last row was read. */
  commit(): Promise<void>;
  /** Rolls back unless committed and returns the connection; safe to call more than once. */
  close(): Promise<void>;
}

export const RECORD_COLUMNS = `id, user_id, "timestamp", to_char("timestamp" AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS ts_key, service, operation, credits, model_id, tokens,
  input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, reasoning_tokens, metadata, pricing_rule_id,
  provider_cost::text AS provider_cost, billing_status, review_status, api_key_id, actor_id`;

/** byModel key: the model, or the operation for chat records without one (null: not counted). */
export const MODEL_KEY_SQL = `COALESCE(model_id, CASE WHEN service IN ('chat', 'chat-streaming') THEN operation END)`;

/** The 20 values of a usage_records row, in column order (a shortfall opens a review). */
export function recordParams(input: CreateUsageRecordInput): unknown[] {
  return [
    input.id ?? randomUUID(),
    input.userId,
    input.service,
    input.operation,
    input.credits,
    input.modelId ?? null,
    input.tokens ?? null,
    input.inputTokens ?? null,
    input.outputTokens ?? null,
    input.metadata === undefined ? null : JSON.stringify(input.metadata),
    input.pricingRuleId ?? null,
    input.providerCost ?? null,
    input.billingStatus ?? 'billed',
    input.shortfall ?? 0,
    (input.shortfall ?? 0) > 0 ? 'open' : null,
    input.cacheReadTokens ?? null,
    input.cacheWriteTokens ?? null,
    input.reasoningTokens ?? null,
    input.apiKeyId ?? null,
    input.actorId ?? null,
  ];
}

const INSERT_COLUMNS = `id, user_id, service, operation, credits, model_id, tokens, input_tokens, output_tokens,
                        metadata, pricing_rule_id, provider_cost, billing_status, shortfall, review_status,
                        cache_read_tokens, cache_write_tokens, reasoning_tokens, api_key_id, actor_id`;
const INSERT_VALUES = `$1::uuid, $2::varchar, $3::varchar, $4::varchar, $5::int, $6::varchar, $7::int, $8::int, $9::int,
                       $10::jsonb, $11::uuid, $12::numeric, $13::varchar, $14::int, $15::varchar, $16::int, $17::int, $18::int,
                       $19::uuid, $20::varchar`;

/**
 * The batch statement's usage parts, over `batch_input` (`owner` of the event ids, `events` as JSON).
 * Records carry clock time, so a batch's records list (newest first) in the order they apply; they
 * are inserted before the take locks any account (their foreign key takes KEY SHARE on the account
 * rows, which the take's NO KEY UPDATE locks never block), which keeps the largest insert out of the
 * time the accounts are held.
 */
const BATCH_PARTS = {
  events: `SELECT c.* FROM batch_input i, LATERAL usage_events_claim(i.owner, i.events) c`,
  records: `INSERT INTO usage_records (id, user_id, "timestamp", service, operation, credits, model_id, tokens,
                                      input_tokens, output_tokens, cache_read_tokens, cache_write_tokens,
                                      reasoning_tokens, metadata, pricing_rule_id, provider_cost,
                                      billing_status, shortfall, review_status, api_key_id, actor_id)
            SELECT r.id, r.user_id, clock_timestamp(), r.service, r.operation, r.credits, r.model_id, r.tokens,
                   r.input_tokens, r.output_tokens, r.cache_read_tokens, r.cache_write_tokens, r.reasoning_tokens,
                   r.metadata, r.pricing_rule_id, r.provider_cost, 'billed', 0, NULL, r.api_key_id, r.actor_id
              FROM batch_input i
             CROSS JOIN LATERAL jsonb_populate_recordset(NULL::usage_records, i.events) WITH ORDINALITY AS r
              JOIN events e ON e.out_ord = r.ordinality AND e.out_status = 'new'
             ORDER BY r.ordinality
            RETURNING id, user_id AS account_id, credits AS amount`,
  // One row always (an aggregate), also when nothing was refused.
  release: `SELECT usage_events_release((SELECT owner FROM batch_input), array_agg(e.out_event_id),
                                        array_agg(e.out_usage_record_id))
              FROM refused f JOIN events e ON e.out_status = 'new' AND e.out_usage_record_id = f.usage_record_id`,
} satisfies Omit<BatchTakeStatement, 'amounts' | 'input'>;

@Injectable()
export class UsageRecordsRepository {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly exportConnections: ExportConnections,
  ) {}

  /**
   * The record's INSERT for CreditsService.debitAndInsert: inserted in the debit's statement, only
   * when the debit happened. A named statement, so PostgreSQL parses and plans it once per connection.
   */
  insertAfterDebit(input: CreateUsageRecordInput): InsertAfterTake {
    return {
      name: 'usage_record_with_debit_v6',
      insert: `INSERT INTO usage_records (${INSERT_COLUMNS}) SELECT ${INSERT_VALUES}`,
      returning: RECORD_COLUMNS,
      params: recordParams(input),
    };
  }

  /**
   * A record's INSERT inside another module's statement (a streaming settlement, through
   * CreditsService.settleSession): what is known beforehand as parameters, the rest as that
   * statement's SQL. A shortfall opens a review (needs_review, review open), as recordParams does.
   */
  insertInStatement(
    known: Required<Pick<CreateUsageRecordInput, 'id' | 'service' | TokenColumn>> & { metadata: object },
    sql: RecordInStatement,
  ): SqlPart {
    const shortfall = `(${sql.shortfall})`;
    return {
      sql: `INSERT INTO usage_records (${INSERT_COLUMNS})
            SELECT $1::uuid, ${sql.userId}, $2::varchar, ${sql.operation}, (${sql.credits})::int, ${sql.modelId},
                   $3::int, $4::int, $5::int, $6::jsonb || ${shiftParams(sql.metadata.sql, 9)}, ${sql.pricingRuleId},
                   ${sql.providerCost}, CASE WHEN ${shortfall} > 0 THEN 'needs_review' ELSE 'billed' END,
                   ${shortfall}::int, CASE WHEN ${shortfall} > 0 THEN 'open' END, $7::int, $8::int, $9::int,
                   ${sql.apiKeyId}, ${sql.actorId}
              FROM ${sql.from}
            RETURNING id AS usage_record_id`,
      params: [
        known.id,
        known.service,
        known.tokens,
        known.inputTokens,
        known.outputTokens,
        JSON.stringify(known.metadata),
        known.cacheReadTokens,
        known.cacheWriteTokens,
        known.reasoningTokens,
        ...sql.metadata.params,
      ],
    };
  }

  /**
   * The usage module's parts of a batch take (CreditsService.debitAndInsertMany): each event's id
   * claimed in `owner`'s namespace (usage_events_claim()), the records of the new events inserted,
   * and, after the take, the refused events' records and ids removed again (usage_events_release()).
   */
  batchParts(
    owner: string,
    items: { eventId: string | null; input: CreateUsageRecordInput & { id: string } }[],
  ): BatchTakeStatement {
    // Sent as JSON: an absent column is NULL to jsonb_populate_recordset, so nulls are left out
    // (JSON.stringify drops undefined), which keeps the payload PostgreSQL parses small.
    const events = items.map(({ eventId, input }) => ({
      id: input.id,
      user_id: input.userId,
      event_id: eventId ?? undefined,
      service: input.service,
      operation: input.operation,
      credits: input.credits,
      model_id: input.modelId ?? undefined,
      tokens: input.tokens ?? undefined,
      input_tokens: input.inputTokens ?? undefined,
      output_tokens: input.outputTokens ?? undefined,
      cache_read_tokens: input.cacheReadTokens ?? undefined,
      cache_write_tokens: input.cacheWriteTokens ?? undefined,
      reasoning_tokens: input.reasoningTokens ?? undefined,
      metadata: input.metadata ?? undefined,
      pricing_rule_id: input.pricingRuleId ?? undefined,
      provider_cost: input.providerCost ?? undefined,
      api_key_id: input.apiKeyId ?? undefined,
      actor_id: input.actorId ?? undefined,
    }));
    return {
      amounts: items.map(({ input }) => input.credits),
      input: { sql: `SELECT $1::varchar AS owner, $2::jsonb AS events`, params: [owner, JSON.stringify(events)] },
      ...BATCH_PARTS,
    };
  }

  async find(manager: EntityManager, id: string): Promise<UsageRecordRow | null> {
    const rows: RecordSqlRow[] = await manager.query(`SELECT ${RECORD_COLUMNS} FROM usage_records WHERE id = $1`, [id]);
    return rows[0] ? toRow(rows[0]) : null;
  }

  /** Matching records newest first, keyset-paged on ("timestamp", id); from the replica when there is one. */
  async list(filter: RecordsFilter, limit: number): Promise<RecordSqlRow[]> {
    const { where, params } = filterSql(filter);
    return queryReplica(
      this.dataSource,
      `SELECT ${RECORD_COLUMNS} FROM usage_records ${where}
        ORDER BY "timestamp" DESC, id DESC
        LIMIT $${params.length + 1}`,
      [...params, limit],
    );
  }

  /**
   * Opens a REPEATABLE READ snapshot with a server-side cursor over every matching record, newest
   * first, on a connection of the exports' own pool (src/database/export-connections.ts; on the
   * replica when there is one). Done before the answer starts, so a database error is still a clean
   * error response rather than a 200 cut off mid-body. The caller must `close()` it.
   */
  async openCursor(filter: RecordsFilter): Promise<RecordsCursor> {
    const { where, params } = filterSql(filter);
    const connection = await this.exportConnections.connect();
    try {
      await connection.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      await connection.query(
        `DECLARE usage_csv NO SCROLL CURSOR FOR
           SELECT ${RECORD_COLUMNS} FROM usage_records ${where}
            ORDER BY "timestamp" DESC, id DESC`,
        params,
      );
    } catch (error) {
      await connection.query('ROLLBACK').catch(() => undefined);
      connection.release();
      throw error;
    }
    let open = true;
    return {
      fetch: (n) => connection.query<RecordSqlRow>(`FETCH ${n} FROM usage_csv`),
      commit: async () => {
        await connection.query('COMMIT');
        open = false;
      },
      close: async () => {
        if (open) {
          open = false;
          await connection.query('ROLLBACK').catch(() => undefined);
        }
        connection.release();
      },
    };
  }
}

/** The WHERE clause of a records filter and its values. */
function filterSql(filter: RecordsFilter): { where: string; params: unknown[] } {
  const params: unknown[] = [];
  const conditions: string[] = [];
  if (filter.userId !== undefined) {
    params.push(filter.userId);
    conditions.push(`user_id = $${params.length}`);
  }
  if (filter.service !== undefined) {
    params.push(filter.service);
    conditions.push(`service = $${params.length}`);
  }
  conditions.push(...rangeSql(filter.range, '"timestamp"', params));
  if (filter.after) {
    params.push(filter.after.t, filter.after.id);
    conditions.push(`("timestamp", id) < ($${params.length - 1}::timestamptz, $${params.length}::uuid)`);
  }
  return { where: conditions.length ? `WHERE ${conditions.join(' AND ')}` : '', params };
}
