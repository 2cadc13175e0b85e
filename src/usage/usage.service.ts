import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';

import { Inject, Injectable, Logger } from '@nestjs/common';
import { Cron, CronExpression } from '@nestjs/schedule';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';

import { type AuthUser, roleSatisfies } from '../common/auth/roles.js';
import { DomainError, NotFoundError } from '../common/errors/domain-error.js';
import { decodeTimeCursor, DEFAULT_LIMIT, type Page, toPage } from '../common/http/pagination.js';
import { MAX_CREDITS, MAX_TOKENS } from '../common/validation/amounts.js';
import { CREDITS_TAKE_SQL, takeResult, type TakeRow } from '../credits/credits.service.js';
import { Transactions } from '../database/transactions.js';
import { PricingService } from '../pricing/pricing.service.js';
import { AccountsService } from '../users/accounts.service.js';
import { metadataProblem, type RecordUsageDto, type UsageRecordResponseDto } from './dto/record-usage.dto.js';
import type { SystemUsageStatsResponseDto, UserUsageStatsResponseDto } from './dto/usage-stats.dto.js';
import { csvCell, csvLine } from './usage-csv.js';
import { type DateRange, parseDateRange, rangeSql } from './usage-dates.js';

export type BillingStatus = 'billed' | 'needs_review';

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
  metadata: Record<string, unknown> | null;
  pricingRuleId: string | null;
  providerCost: string | null;
  billingStatus: BillingStatus;
}

export interface CreateUsageRecordInput {
  userId: string;
  service: string;
  operation: string;
  credits: number;
  modelId?: string | null;
  tokens?: number | null;
  inputTokens?: number | null;
  outputTokens?: number | null;
  metadata?: object;
  pricingRuleId?: string | null;
  providerCost?: string | null;
  billingStatus?: BillingStatus;
  id?: string;
}

interface RecordSqlRow {
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
  metadata: Record<string, unknown> | null;
  pricing_rule_id: string | null;
  provider_cost: string | null;
  billing_status: BillingStatus;
}

const RECORD_COLUMNS = `id, user_id, "timestamp", to_char("timestamp" AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS ts_key, service, operation, credits, model_id, tokens,
  input_tokens, output_tokens, metadata, pricing_rule_id, provider_cost::text AS provider_cost, billing_status`;

/** byModel key: the model, or the operation for chat records without one (null: not counted). */
const MODEL_KEY_SQL = `COALESCE(model_id, CASE WHEN service IN ('chat', 'chat-streaming') THEN operation END)`;

/** The cursor's timestamp: UTC with PostgreSQL's microseconds (as written by ts_key). */

const CSV_COLUMNS = [
  'id',
  'userId',
  'timestamp',
  'service',
  'operation',
  'credits',
  'modelId',
  'tokens',
  'inputTokens',
  'outputTokens',
  'billingStatus',
  'metadata',
];
const CSV_BATCH = 1000;

/** pg returns bigint/numeric aggregates as strings: the one place they become numbers. */
const toCount = (value: string | number | null): number => Number(value ?? 0);

/**
 * POST /api/usage/record's one statement: $1–$7 are credits_take's, $8–$20 the record's columns.
 * A NAMED statement: TypeORM hands the query to pg unchanged, and pg prepares a named statement once
 * per connection, so PostgreSQL neither parses nor plans it again on every request.
 */
const RECORD_WITH_DEBIT = {
  name: 'usage_record_with_debit_v1',
  text: `WITH t AS MATERIALIZED (SELECT * FROM ${CREDITS_TAKE_SQL}),
       r AS (
         INSERT INTO usage_records (id, user_id, service, operation, credits, model_id, tokens, input_tokens, output_tokens,
                                    metadata, pricing_rule_id, provider_cost, billing_status)
         SELECT $8::uuid, $9::varchar, $10::varchar, $11::varchar, $12::int, $13::varchar, $14::int, $15::int, $16::int,
                $17::jsonb, $18::uuid, $19::numeric, $20::varchar
           FROM t WHERE t.out_available >= $2::int
         RETURNING ${RECORD_COLUMNS})
       SELECT t.out_available, t.out_collected, t.out_balance_after, t.out_parts, r.* FROM t LEFT JOIN r ON true`,
};

/** The checks createRecord makes on what other modules pass (the route's DTO has checked them already). */
function checkRecordInput(input: CreateUsageRecordInput): void {
  if (!Number.isInteger(input.credits) || input.credits < 0 || input.credits > MAX_CREDITS) {
    throw new DomainError('VALIDATION', `credits must be an integer between 0 and ${MAX_CREDITS}`);
  }
  if (input.metadata !== undefined) {
    const problem = metadataProblem(input.metadata);
    if (problem) throw new DomainError('VALIDATION', problem);
  }
}

/** The 13 values of a usage_records row, in column order. */
function recordParams(input: CreateUsageRecordInput): unknown[] {
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
  ];
}

function toRow(r: RecordSqlRow): UsageRecordRow {
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
    metadata: r.metadata,
    pricingRuleId: r.pricing_rule_id,
    providerCost: r.provider_cost,
    billingStatus: r.billing_status,
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
    metadata: row.metadata,
    pricingRuleId: row.pricingRuleId,
    billingStatus: row.billingStatus,
  };
}

/** The filters of GET /api/usage/records (JSON and CSV alike). */
interface RecordsQuery {
  userId?: string;
  service?: string;
  startDate?: string;
  endDate?: string;
  cursor?: string;
}

interface AggRow {
  kind: 'service' | 'day' | 'model' | 'user' | 'total';
  key: string | null;
  records: string;
  credits: string;
  provider_cost: string | null;
  user_count?: string;
}

@Injectable()
export class UsageService {
  private readonly logger = new Logger('Usage');

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(Transactions) private readonly tx: Transactions,
    @Inject(PricingService) private readonly pricing: PricingService,
    @Inject(AccountsService) private readonly accounts: AccountsService,
  ) {}

  // ------------------------------------------------------------------ agreed API for other modules

  /** Writes one usage record in the caller's transaction; debits nothing. */
  async createRecord(manager: EntityManager, input: CreateUsageRecordInput): Promise<UsageRecordRow> {
    checkRecordInput(input);
    const rows: RecordSqlRow[] = await manager.query(
      `INSERT INTO usage_records (id, user_id, service, operation, credits, model_id, tokens, input_tokens, output_tokens,
                                  metadata, pricing_rule_id, provider_cost, billing_status)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb, $11, $12::numeric, $13)
       RETURNING ${RECORD_COLUMNS}`,
      recordParams(input),
    );
    return toRow(rows[0]);
  }

  // ------------------------------------------------------------------ POST /api/usage/record

  /**
   * Prices (when no credits are given), debits and records in ONE transaction: the record's id is
   * chosen first so the debit's ledger entries point at it; a short balance throws before anything
   * is written and rolls the transaction back (402).
   */
  async record(userId: string, dto: RecordUsageDto): Promise<UsageRecordResponseDto> {
    const hasSplit = dto.inputTokens !== undefined || dto.outputTokens !== undefined;
    if (hasSplit && dto.tokens !== undefined) {
      throw new DomainError('VALIDATION', 'Give either tokens or inputTokens and outputTokens, not both');
    }
    if (hasSplit && (dto.inputTokens === undefined || dto.outputTokens === undefined)) {
      throw new DomainError('VALIDATION', 'inputTokens and outputTokens go together');
    }
    const tokens = hasSplit ? dto.inputTokens! + dto.outputTokens! : (dto.tokens ?? null);
    if (tokens !== null && tokens > MAX_TOKENS)
      throw new DomainError('VALIDATION', `tokens must be at most ${MAX_TOKENS} in total`);

    let credits = dto.credits;
    let pricingRuleId: string | null = null;
    let providerCost: string | null = null;
    if (credits === undefined) {
      if (!dto.modelId || tokens === null) {
        throw new DomainError(
          'VALIDATION',
          'Without credits, modelId and tokens (or inputTokens and outputTokens) are required',
        );
      }
      const quote = await this.pricing.quote(
        dto.modelId,
        hasSplit ? { inputTokens: dto.inputTokens, outputTokens: dto.outputTokens } : { tokens: dto.tokens },
      );
      credits = quote.credits;
      pricingRuleId = quote.pricingRuleId;
      providerCost = quote.providerCost;
    }
    const input: CreateUsageRecordInput = {
      id: randomUUID(),
      userId,
      service: dto.service,
      operation: dto.operation,
      credits,
      modelId: dto.modelId ?? null,
      tokens,
      inputTokens: dto.inputTokens ?? null,
      outputTokens: dto.outputTokens ?? null,
      metadata: dto.metadata,
      pricingRuleId,
      providerCost,
    };
    checkRecordInput(input);
    // ONE statement, so it is its own transaction (or joins the request's idempotency transaction):
    // credits_take locks the account row, then the allocations, debits FIFO with ledger entries that
    // point at the record, and the record is inserted only when the debit happened. Short → nothing
    // is written and InsufficientCreditsError (402). Credits 0 → the record alone, no debit.
    const manager = this.tx.statementManager;
    if (credits === 0) return toRecordDto(await this.createRecord(manager, input));
    const rows: (RecordSqlRow & TakeRow)[] = await manager.query(RECORD_WITH_DEBIT as unknown as string, [
      userId,
      credits,
      'debit',
      true,
      null,
      input.id,
      userId,
      ...recordParams(input),
    ]);
    takeResult(rows[0], credits, true);
    return toRecordDto(toRow(rows[0]));
  }

  // ------------------------------------------------------------------ statistics

  async userStats(
    userId: string,
    query: { startDate?: string; endDate?: string },
    mustExist = false,
  ): Promise<UserUsageStatsResponseDto> {
    const range = parseDateRange(query.startDate, query.endDate);
    if (mustExist && !(await this.accounts.exists(this.dataSource.manager, userId))) throw new NotFoundError('User');
    const params: unknown[] = [userId];
    const where = [`user_id = $1`, ...rangeSql(range, '"timestamp"', params)].join(' AND ');
    // One pass over the user's index range computes every breakdown (GROUPING SETS).
    const [aggs, recent] = await Promise.all([
      this.dataSource.query(
        `SELECT CASE WHEN GROUPING(service) = 0 THEN 'service' WHEN GROUPING(day) = 0 THEN 'day'
                     WHEN GROUPING(model_key) = 0 THEN 'model' ELSE 'total' END AS kind,
                COALESCE(service, day, model_key) AS key, count(*) AS records, COALESCE(sum(credits), 0) AS credits,
                NULL AS provider_cost
           FROM (SELECT service, to_char("timestamp" AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day,
                        ${MODEL_KEY_SQL} AS model_key, credits
                   FROM usage_records WHERE ${where}) r
          GROUP BY GROUPING SETS ((service), (day), (model_key), ())
          ORDER BY kind, key`,
        params,
      ) as Promise<AggRow[]>,
      this.dataSource.query(
        `SELECT ${RECORD_COLUMNS} FROM usage_records WHERE ${where} ORDER BY "timestamp" DESC, id DESC LIMIT 10`,
        params,
      ) as Promise<RecordSqlRow[]>,
    ]);
    const total = aggs.find((a) => a.kind === 'total');
    return {
      userId,
      totalRecords: toCount(total?.records ?? 0),
      totalCredits: toCount(total?.credits ?? 0),
      byService: toMap(aggs, 'service'),
      byDay: toMap(aggs, 'day'),
      byModel: toMap(aggs, 'model'),
      recentActivity: recent.map((r) => toRecordDto(toRow(r))),
    };
  }

  /**
   * System-wide statistics from the daily rollups (migration 1732000002100): whole UTC days of the
   * window come from usage_daily_users / usage_daily_totals plus the deltas not folded in yet; only
   * the partial days at the window's edges are read from usage_records (by the time index). One
   * statement, so one snapshot; only aggregates reach Node.
   */
  async systemStats(query: {
    startDate?: string;
    endDate?: string;
    topUsers?: number;
  }): Promise<SystemUsageStatsResponseDto> {
    const range = parseDateRange(query.startDate, query.endDate);
    // The window as [start, endExclusive) and the whole UTC days inside it, computed by PostgreSQL
    // (microsecond timestamps).
    const [bounds]: { end_excl: string | null; full_from: string | null; full_to: string | null }[] =
      await this.dataSource.query(
        `SELECT to_char(e AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS end_excl,
              to_char(CASE WHEN (s AT TIME ZONE 'UTC') = date_trunc('day', s AT TIME ZONE 'UTC') THEN (s AT TIME ZONE 'UTC')::date
                           ELSE (s AT TIME ZONE 'UTC')::date + 1 END, 'YYYY-MM-DD') AS full_from,
              to_char((e AT TIME ZONE 'UTC')::date, 'YYYY-MM-DD') AS full_to
         FROM (SELECT $1::timestamptz AS s,
                      CASE WHEN $3 THEN $2::timestamptz + interval '1 microsecond' ELSE $2::timestamptz END AS e) b`,
        [range.start, range.end, range.endInclusive],
      );
    const params: unknown[] = [];
    const p = (value: unknown) => {
      params.push(value);
      return `$${params.length}`;
    };
    const rangeConds: string[] = [];
    if (range.start) rangeConds.push(`"timestamp" >= ${p(range.start)}::timestamptz`);
    if (bounds.end_excl) rangeConds.push(`"timestamp" < ${p(bounds.end_excl)}::timestamptz`);
    const fullDays: string[] = [];
    const fullTimes: string[] = [];
    if (bounds.full_from) {
      const from = p(bounds.full_from);
      fullDays.push(`day >= ${from}::date`);
      fullTimes.push(`"timestamp" >= ${from}::timestamptz`);
    }
    if (bounds.full_to) {
      const to = p(bounds.full_to);
      fullDays.push(`day < ${to}::date`);
      fullTimes.push(`"timestamp" < ${to}::timestamptz`);
    }
    const inFullDays = fullDays.length ? fullDays.join(' AND ') : 'true';
    const edges = [...rangeConds, `NOT (${fullTimes.length ? fullTimes.join(' AND ') : 'true'})`].join(' AND ');
    const top = p(query.topUsers ?? 100);

    const rows: AggRow[] = await this.dataSource.query(
      `WITH edge AS (
         SELECT ("timestamp" AT TIME ZONE 'UTC')::date AS day, user_id, service,
                COALESCE(${MODEL_KEY_SQL}, '') AS model_key, 1::bigint AS records, credits::bigint AS credits, provider_cost
           FROM usage_records WHERE ${edges}
       ), pending AS (
         SELECT day, user_id, service, model_key, records, credits, provider_cost
           FROM usage_rollup_pending WHERE ${inFullDays}
       ), users AS (
         SELECT user_id, sum(records) AS records, sum(credits) AS credits
           FROM (SELECT user_id, records, credits FROM usage_daily_users WHERE ${inFullDays}
                 UNION ALL SELECT user_id, records, credits FROM pending
                 UNION ALL SELECT user_id, records, credits FROM edge) x
          GROUP BY user_id
         HAVING sum(records) > 0
       ), top_users AS (
         SELECT user_id, records, credits, count(*) OVER () AS user_count FROM users
          ORDER BY credits DESC, user_id
          LIMIT ${top}
       ), dims AS (
         SELECT CASE WHEN GROUPING(service) = 0 THEN 'service' WHEN GROUPING(day) = 0 THEN 'day'
                     WHEN GROUPING(model_key) = 0 THEN 'model' ELSE 'total' END AS kind,
                COALESCE(service, to_char(day, 'YYYY-MM-DD'), model_key) AS key,
                sum(records) AS records, sum(credits) AS credits, trim_scale(sum(provider_cost))::text AS provider_cost
           FROM (SELECT day, service, NULLIF(model_key, '') AS model_key, records, credits, provider_cost
                   FROM (SELECT day, service, model_key, records, credits, provider_cost FROM usage_daily_totals WHERE ${inFullDays}
                         UNION ALL SELECT day, service, model_key, records, credits, provider_cost FROM pending
                         UNION ALL SELECT day, service, model_key, records, credits, provider_cost FROM edge) y) x
          GROUP BY GROUPING SETS ((service), (day), (model_key), ())
         HAVING sum(records) > 0 OR GROUPING(service, day, model_key) = 7
       )
       SELECT 'user' AS kind, user_id AS key, records, credits, NULL AS provider_cost, user_count, row_number() OVER (ORDER BY credits DESC, user_id) AS ord
         FROM top_users
       UNION ALL
       SELECT kind, key, records, credits, provider_cost, NULL, NULL FROM dims
       ORDER BY kind, ord, key`,
      params,
    );
    const total = rows.find((r) => r.kind === 'total');
    const marginByModel: Record<string, { credits: number; providerCost: string | null }> = {};
    for (const r of rows) {
      if (r.kind === 'model' && r.key !== null)
        marginByModel[r.key] = { credits: toCount(r.credits), providerCost: r.provider_cost };
    }
    const firstUser = rows.find((r) => r.kind === 'user');
    return {
      totalRecords: toCount(total?.records ?? 0),
      totalCredits: toCount(total?.credits ?? 0),
      userCount: toCount(firstUser?.user_count ?? 0),
      byUser: toMap(rows, 'user'),
      byService: toMap(rows, 'service'),
      byDay: toMap(rows, 'day'),
      byModel: toMap(rows, 'model'),
      providerCost: total?.provider_cost ?? '0',
      marginByModel,
    };
  }

  /** Folds pending rollup deltas into the daily rollups (also run by the job below). */
  async compactRollups(): Promise<number> {
    const rows: { n: string }[] = await this.dataSource.query(`SELECT usage_rollup_compact() AS n`);
    return Number(rows[0].n);
  }

  @Cron(CronExpression.EVERY_30_SECONDS, { name: 'usage-rollup-compaction', waitForCompletion: true })
  async compactionJob(): Promise<void> {
    try {
      await this.compactRollups();
    } catch (error) {
      this.logger.warn({
        msg: 'usage rollup compaction failed',
        err: error instanceof Error ? error.message : String(error),
      });
    }
  }

  // ------------------------------------------------------------------ records

  /**
   * The filter of both the JSON list and the CSV export, so both refuse the same input (dates,
   * cursor, another user's records without the role) before anything is read or streamed. Another
   * user's records need supervisor or admin; the default is the caller's own.
   */
  private recordsFilter(caller: AuthUser, query: RecordsQuery) {
    const range: DateRange = parseDateRange(query.startDate, query.endDate);
    const after = decodeTimeCursor(query.cursor, 'uuid');
    const userId =
      query.userId ?? (roleSatisfies(caller.role, 'supervisor') && caller.via === 'jwt' ? undefined : caller.userId);
    if (userId !== caller.userId && !(roleSatisfies(caller.role, 'supervisor') && caller.via === 'jwt')) {
      throw new DomainError('FORBIDDEN', "Only supervisors and admins may read another user's usage");
    }
    const params: unknown[] = [];
    const where: string[] = [];
    if (userId !== undefined) {
      params.push(userId);
      where.push(`user_id = $${params.length}`);
    }
    if (query.service !== undefined) {
      params.push(query.service);
      where.push(`service = $${params.length}`);
    }
    where.push(...rangeSql(range, '"timestamp"', params));
    if (after) {
      params.push(after.t, after.id);
      where.push(`("timestamp", id) < ($${params.length - 1}::timestamptz, $${params.length}::uuid)`);
    }
    return { params, where };
  }

  /** Keyset paging on ("timestamp", id), newest first: rows inserted meanwhile never shift a page. */
  async listRecords(caller: AuthUser, query: RecordsQuery & { limit?: number }): Promise<Page<UsageRecordResponseDto>> {
    const { params, where } = this.recordsFilter(caller, query);
    const limit = query.limit ?? DEFAULT_LIMIT;
    params.push(limit + 1);
    const rows: RecordSqlRow[] = await this.dataSource.query(
      `SELECT ${RECORD_COLUMNS} FROM usage_records
        ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY "timestamp" DESC, id DESC
        LIMIT $${params.length}`,
      params,
    );
    // The cursor keeps PostgreSQL's microseconds (a JS Date would round them and skip or repeat rows).
    return toPage(
      rows,
      limit,
      (r) => toRecordDto(toRow(r)),
      (r) => ({ t: r.ts_key, id: r.id }),
    );
  }

  /**
   * Every matching record as CSV, newest first (after `cursor` when given; no `limit`), read through a
   * server-side cursor in batches, so memory stays flat however many rows match; the stream pauses
   * while the client reads slowly.
   */
  streamRecordsCsv(caller: AuthUser, query: RecordsQuery): Readable {
    const { params, where } = this.recordsFilter(caller, query);
    const sql = `SELECT ${RECORD_COLUMNS} FROM usage_records ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
                  ORDER BY "timestamp" DESC, id DESC`;
    const dataSource = this.dataSource;
    async function* lines(): AsyncGenerator<string> {
      yield csvLine(CSV_COLUMNS);
      const runner = dataSource.createQueryRunner('slave');
      await runner.connect();
      try {
        await runner.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
        await runner.query(`DECLARE usage_csv NO SCROLL CURSOR FOR ${sql}`, params);
        for (;;) {
          const batch: RecordSqlRow[] = await runner.query(`FETCH ${CSV_BATCH} FROM usage_csv`);
          if (batch.length === 0) break;
          let chunk = '';
          for (const r of batch) {
            chunk += csvLine([
              csvCell(r.id, false),
              csvCell(r.user_id),
              csvCell(r.timestamp.toISOString(), false),
              csvCell(r.service),
              csvCell(r.operation),
              csvCell(r.credits, false),
              csvCell(r.model_id),
              csvCell(r.tokens, false),
              csvCell(r.input_tokens, false),
              csvCell(r.output_tokens, false),
              csvCell(r.billing_status, false),
              csvCell(r.metadata),
            ]);
          }
          yield chunk;
        }
        await runner.query('COMMIT');
      } catch (error) {
        await runner.query('ROLLBACK').catch(() => undefined);
        throw error;
      } finally {
        // Also reached when the client disconnects (the generator is returned early).
        if (!runner.isReleased) {
          await runner.query('ROLLBACK').catch(() => undefined);
          await runner.release();
        }
      }
    }
    return Readable.from(lines(), { objectMode: false, highWaterMark: 64 * 1024 });
  }
}

function toMap(rows: AggRow[], kind: AggRow['kind']): Record<string, number> {
  const map: Record<string, number> = {};
  for (const r of rows) if (r.kind === kind && r.key !== null) map[r.key] = toCount(r.credits);
  return map;
}
