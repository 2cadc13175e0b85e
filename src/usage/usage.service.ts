import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { roleSatisfies, type AuthUser } from '../common/auth/roles.js';
import { DomainError, NotFoundError } from '../common/errors/domain-error.js';
import { decodeCursor, DEFAULT_LIMIT, toPage, type Page } from '../common/http/pagination.js';
import { CreditsService } from '../credits/credits.service.js';
import { Transactions } from '../database/transactions.js';
import { PricingService } from '../pricing/pricing.service.js';
import { AccountsService } from '../users/accounts.service.js';
import { MAX_INT, metadataProblem, type RecordUsageDto, type UsageRecordResponseDto } from './dto/record-usage.dto.js';
import type { SystemUsageStatsResponseDto, UserUsageStatsResponseDto } from './dto/usage-stats.dto.js';
import { csvCell, csvLine } from './usage-csv.js';
import { parseDateRange, rangeSql, type DateRange } from './usage-dates.js';

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
const CURSOR_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

const CSV_COLUMNS = ['id', 'userId', 'timestamp', 'service', 'operation', 'credits', 'modelId', 'tokens', 'inputTokens', 'outputTokens', 'billingStatus', 'metadata'];
const CSV_BATCH = 1000;

/** pg returns bigint/numeric aggregates as strings: the one place they become numbers. */
const toCount = (value: string | number | null): number => Number(value ?? 0);

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
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(Transactions) private readonly tx: Transactions,
    @Inject(CreditsService) private readonly credits: CreditsService,
    @Inject(PricingService) private readonly pricing: PricingService,
    @Inject(AccountsService) private readonly accounts: AccountsService,
  ) {}

  // ------------------------------------------------------------------ agreed API for other modules

  /** Writes one usage record in the caller's transaction; debits nothing. */
  async createRecord(manager: EntityManager, input: CreateUsageRecordInput): Promise<UsageRecordRow> {
    if (!Number.isInteger(input.credits) || input.credits < 0 || input.credits > MAX_INT) {
      throw new DomainError('VALIDATION', 'credits must be an integer between 0 and 2147483647');
    }
    if (input.metadata !== undefined) {
      const problem = metadataProblem(input.metadata);
      if (problem) throw new DomainError('VALIDATION', problem);
    }
    const rows: RecordSqlRow[] = await manager.query(
      `INSERT INTO usage_records (id, user_id, service, operation, credits, model_id, tokens, input_tokens, output_tokens,
                                  metadata, pricing_rule_id, provider_cost, billing_status)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb, $11, $12::numeric, $13)
       RETURNING ${RECORD_COLUMNS}`,
      [
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
      ],
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
    if (tokens !== null && tokens > MAX_INT) throw new DomainError('VALIDATION', 'tokens must be at most 2147483647 in total');

    let credits = dto.credits;
    let pricingRuleId: string | null = null;
    let providerCost: string | null = null;
    if (credits === undefined) {
      if (!dto.modelId || tokens === null) {
        throw new DomainError('VALIDATION', 'Without credits, modelId and tokens (or inputTokens and outputTokens) are required');
      }
      const quote = await this.pricing.quote(
        dto.modelId,
        hasSplit ? { inputTokens: dto.inputTokens, outputTokens: dto.outputTokens } : { tokens: dto.tokens },
      );
      credits = quote.credits;
      pricingRuleId = quote.pricingRuleId;
      providerCost = quote.providerCost;
    }
    const amount = credits;
    const id = randomUUID();
    return this.tx.run(async (manager) => {
      if (amount > 0) await this.credits.debit(manager, userId, amount, { createdBy: userId, usageRecordId: id });
      const row = await this.createRecord(manager, {
        id,
        userId,
        service: dto.service,
        operation: dto.operation,
        credits: amount,
        modelId: dto.modelId ?? null,
        tokens,
        inputTokens: dto.inputTokens ?? null,
        outputTokens: dto.outputTokens ?? null,
        metadata: dto.metadata,
        pricingRuleId,
        providerCost,
      });
      return toRecordDto(row);
    });
  }

  // ------------------------------------------------------------------ statistics

  async userStats(userId: string, query: { startDate?: string; endDate?: string }, mustExist = false): Promise<UserUsageStatsResponseDto> {
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

  async systemStats(query: { startDate?: string; endDate?: string; topUsers?: number }): Promise<SystemUsageStatsResponseDto> {
    const range = parseDateRange(query.startDate, query.endDate);
    const params: unknown[] = [];
    const conditions = rangeSql(range, '"timestamp"', params);
    params.push(query.topUsers ?? 100);
    const top = `$${params.length}`;
    // One scan of the window: GROUPING SETS computes users, services, days and models together;
    // the top users are cut in SQL, so only aggregates ever reach Node.
    const rows = await this.dataSource.transaction('READ COMMITTED', async (manager) => {
      await manager.query(`SET LOCAL work_mem = '64MB'`);
      await manager.query(`SET LOCAL jit = off`);
      return manager.query(
        `WITH agg AS (
           SELECT CASE WHEN GROUPING(user_id) = 0 THEN 'user' WHEN GROUPING(service) = 0 THEN 'service'
                       WHEN GROUPING(day) = 0 THEN 'day' WHEN GROUPING(model_key) = 0 THEN 'model' ELSE 'total' END AS kind,
                  COALESCE(user_id, service, day, model_key) AS key,
                  count(*) AS records, COALESCE(sum(credits), 0) AS credits, trim_scale(sum(provider_cost))::text AS provider_cost
             FROM (SELECT user_id, service, to_char("timestamp" AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day,
                          ${MODEL_KEY_SQL} AS model_key, credits, provider_cost
                     FROM usage_records ${conditions.length ? `WHERE ${conditions.join(' AND ')}` : ''}) r
            GROUP BY GROUPING SETS ((user_id), (service), (day), (model_key), ())
         ), ranked AS (
           SELECT agg.*, row_number() OVER (PARTITION BY kind ORDER BY credits DESC, key) AS rank,
                  count(*) OVER (PARTITION BY kind) AS user_count
             FROM agg
         )
         SELECT kind, key, records, credits, provider_cost, user_count FROM ranked
          WHERE kind <> 'user' OR rank <= ${top}
          ORDER BY kind, CASE WHEN kind = 'user' THEN rank END, key`,
        params,
      ) as Promise<AggRow[]>;
    });
    const total = rows.find((r) => r.kind === 'total');
    const marginByModel: Record<string, { credits: number; providerCost: string | null }> = {};
    for (const r of rows) {
      if (r.kind === 'model' && r.key !== null) marginByModel[r.key] = { credits: toCount(r.credits), providerCost: r.provider_cost };
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

  // ------------------------------------------------------------------ records

  /** Another user's records need supervisor or admin; the default is the caller's own. */
  private recordsFilter(caller: AuthUser, query: { userId?: string; service?: string; startDate?: string; endDate?: string }) {
    const range: DateRange = parseDateRange(query.startDate, query.endDate);
    const userId = query.userId ?? (roleSatisfies(caller.role, 'supervisor') && caller.via === 'jwt' ? undefined : caller.userId);
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
    return { params, where };
  }

  /** Keyset paging on ("timestamp", id), newest first: rows inserted meanwhile never shift a page. */
  async listRecords(
    caller: AuthUser,
    query: { userId?: string; service?: string; startDate?: string; endDate?: string; limit?: number; cursor?: string },
  ): Promise<Page<UsageRecordResponseDto>> {
    const { params, where } = this.recordsFilter(caller, query);
    const limit = query.limit ?? DEFAULT_LIMIT;
    const after = decodeCursor<{ t: string; id: string }>(query.cursor, ['t', 'id']);
    if (after) {
      if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(after.id) || !CURSOR_TIME.test(after.t)) {
        throw new DomainError('VALIDATION', 'cursor is not valid');
      }
      params.push(after.t, after.id);
      where.push(`("timestamp", id) < ($${params.length - 1}::timestamptz, $${params.length}::uuid)`);
    }
    params.push(limit + 1);
    const rows: RecordSqlRow[] = await this.dataSource.query(
      `SELECT ${RECORD_COLUMNS} FROM usage_records
        ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY "timestamp" DESC, id DESC
        LIMIT $${params.length}`,
      params,
    );
    // The cursor keeps PostgreSQL's microseconds (a JS Date would round them and skip or repeat rows).
    return toPage(rows, limit, (r) => toRecordDto(toRow(r)), (r) => ({ t: r.ts_key, id: r.id }));
  }

  /**
   * Every matching record as CSV, newest first, read through a server-side cursor in batches, so
   * memory stays flat however many rows match; the stream pauses while the client reads slowly.
   */
  streamRecordsCsv(caller: AuthUser, query: { userId?: string; service?: string; startDate?: string; endDate?: string }): Readable {
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
