import { Inject, Injectable, Logger } from '@nestjs/common';
import { Cron, CronExpression } from '@nestjs/schedule';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

import { NotFoundError } from '../common/errors/domain-error.js';
import { AccountsService } from '../users/accounts.service.js';
import type { SystemUsageStatsResponseDto, UserUsageStatsResponseDto } from './dto/usage-stats.dto.js';
import { parseDateRange, rangeSql } from './usage-dates.js';
import { MODEL_KEY_SQL, RECORD_COLUMNS, type RecordSqlRow, toRecordDto, toRow } from './usage-records.repository.js';

/** pg returns bigint/numeric aggregates as strings: the one place they become numbers. */
const toCount = (value: string | number | null): number => Number(value ?? 0);

interface AggRow {
  kind: 'service' | 'day' | 'model' | 'user' | 'total';
  key: string | null;
  records: string;
  credits: string;
  provider_cost: string | null;
  user_count?: string;
}

/**
 * Usage statistics, computed by the database (aggregates only reach Node): a user's from their
 * records, system-wide from the daily rollups (migration 1732000002100) plus the partial edge days.
 */
@Injectable()
export class UsageStatsService {
  private readonly logger = new Logger('Usage');

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(AccountsService) private readonly accounts: AccountsService,
  ) {}

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
}

function toMap(rows: AggRow[], kind: AggRow['kind']): Record<string, number> {
  const map: Record<string, number> = {};
  for (const r of rows) if (r.kind === kind && r.key !== null) map[r.key] = toCount(r.credits);
  return map;
}
