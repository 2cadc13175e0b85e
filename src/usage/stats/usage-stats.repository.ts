import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';

import type { ResolvedAccount } from '../../auth/account-access.js';
import type { ScopeKind } from '../../common/validation/budget-scopes.js';
import { type DateRange, rangeSql } from '../../common/validation/date-range.js';
import { queryReplica } from '../../database/connections/replica-reads.js';
import type { RenewableHeavyRead } from '../../database/heavy-reads.js';
import type { SqlPart } from '../../database/statement-parts.js';
import { kindList, tokenColumn, type TokenColumns } from '../../pricing/token-kinds.js';
import type { UsageRecordResponseDto } from '../dto/record-usage.dto.js';
import { recordNetFigure } from '../record-net.js';
import type { SimulationRow } from '../simulations/simulations.js';
import { answered, MODEL_KEY_SQL, RECORD_ANSWER_COLUMNS } from '../usage-records.repository.js';

/** One aggregate of the statistics: a breakdown entry (by service, day, model or user) or the total. */
export interface AggRow extends Partial<TokenColumns<string | null>> {
  kind: 'service' | 'day' | 'model' | 'user' | 'total';
  key: string | null;
  /** bigint and numeric aggregates arrive as strings. */
  records: string;
  credits: string;
  provider_cost: string | null;
  user_count?: string;
  // The token counts per kind: the total row only, bigint sums as strings.
}

/** A record's tokens of each kind; without a split its `tokens` are input (they were priced at the input price). */
const RECORD_KINDS = kindList(
  (kind) => `COALESCE(${tokenColumn(kind)}${kind === 'input' ? ', tokens' : ''}, 0)::bigint AS ${tokenColumn(kind)}`,
);
const KINDS = kindList(tokenColumn);
/** The sums of the kinds, on the total row of a GROUPING SETS query only. */
const KIND_SUMS = kindList(
  (kind) =>
    `CASE WHEN GROUPING(service, day, model_key) = 7 THEN sum(${tokenColumn(kind)}) END AS ${tokenColumn(kind)}`,
);

/** KIND_SUMS when the grouping sets add the member (user_id): the total row is all five grouped. */
const KIND_SUMS_WITH_MEMBER = kindList(
  (kind) =>
    `CASE WHEN GROUPING(service, day, model_key, user_id) = 15 THEN sum(${tokenColumn(kind)}) END AS ${tokenColumn(kind)}`,
);

/**
 * What a record's corrections moved beside its credits (usage_record_net()'s `corrected`): usage
 * statistics count a record's credits and that (docs/usage.md "Corrections"). The daily rollups have
 * them through usage_rollup_correction().
 */
/** The most ids a breakdown by scope answers (the largest first). */
const STATS_SCOPE_LIMIT = 1000;

const CORRECTED_CREDITS = recordNetFigure('usage_records', 'corrected');

/**
 * The statistics' SQL: a user's from their records (index range), system-wide from the daily rollups
 * (migration 1732000002100) plus the partial edge days. Only aggregates leave the database. The
 * statistics read from the DB_READ_URL replica when there is one (they may lag by its delay).
 */
@Injectable()
export class UsageStatsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * A simulation's statements (simulations.ts simulationSql), one a day of its range, each in a
   * snapshot of its own without JIT (a day's records cost less to read than to compile for): the
   * rows of every day, to be summed by key.
   */
  async simulate(db: RenewableHeavyRead, statements: SqlPart[]): Promise<SimulationRow[]> {
    const rows: SimulationRow[] = [];
    for (const [i, statement] of statements.entries()) {
      if (i > 0) await db.renew();
      await db.query(`SELECT set_config('jit', 'off', true)`);
      rows.push(...(await db.query<SimulationRow>(statement.sql, statement.params)));
    }
    return rows;
  }

  /**
   * Every breakdown of an account's records in the range, in one pass (GROUPING SETS): a user's, or
   * an organisation's (the records charged to it), which adds a breakdown by member (`user`).
   */
  userAggregates(subject: Pick<ResolvedAccount, 'accountId' | 'kind'>, range: DateRange): Promise<AggRow[]> {
    const { where, params } = subjectRange(subject, range);
    const byMember = subject.kind === 'org';
    return queryReplica(
      this.dataSource,
      `SELECT CASE WHEN GROUPING(service) = 0 THEN 'service' WHEN GROUPING(day) = 0 THEN 'day'
                     WHEN GROUPING(model_key) = 0 THEN 'model' ${byMember ? `WHEN GROUPING(user_id) = 0 THEN 'user'` : ''}
                     ELSE 'total' END AS kind,
                COALESCE(service, day, model_key${byMember ? ', user_id' : ''}) AS key, count(*) AS records,
                COALESCE(sum(credits), 0) AS credits, NULL AS provider_cost, ${byMember ? KIND_SUMS_WITH_MEMBER : KIND_SUMS}
           FROM (SELECT service, to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day,
                        ${MODEL_KEY_SQL} AS model_key, user_id, credits + ${CORRECTED_CREDITS} AS credits, ${RECORD_KINDS}
                   FROM usage_records WHERE ${where}) r
          GROUP BY GROUPING SETS ((service), (day), (model_key), ${byMember ? '(user_id), ' : ''}())
          ORDER BY kind, key`,
      params,
    );
  }

  /**
   * Net credits per id of a budget scope kind the account's records in the range named
   * (docs/budgets.md): a record of two tags counts in both; records without one are left out.
   */
  scopeAggregates(
    subject: Pick<ResolvedAccount, 'accountId'>,
    range: DateRange,
    kind: ScopeKind,
  ): Promise<{ key: string; credits: string }[]> {
    const { where, params } = subjectRange(subject, range);
    const key = kind === 'tag' ? 'unnest(scope_tags)' : `scope_${kind}`;
    return queryReplica(
      this.dataSource,
      `SELECT s.key, sum(s.credits) AS credits
         FROM (SELECT ${key} AS key, credits + ${CORRECTED_CREDITS} AS credits FROM usage_records WHERE ${where}) s
        WHERE s.key IS NOT NULL
        GROUP BY s.key ORDER BY sum(s.credits) DESC, s.key LIMIT ${STATS_SCOPE_LIMIT}`,
      params,
    );
  }

  /** An account's newest records in the range, as their answers. */
  async recentRecords(
    subject: Pick<ResolvedAccount, 'accountId'>,
    range: DateRange,
    limit: number,
  ): Promise<UsageRecordResponseDto[]> {
    const { where, params } = subjectRange(subject, range);
    const rows: UsageRecordResponseDto[] = await queryReplica(
      this.dataSource,
      `SELECT ${RECORD_ANSWER_COLUMNS} FROM usage_records WHERE ${where}
        ORDER BY usage_records."timestamp" DESC, usage_records.id DESC LIMIT $${params.length + 1}`,
      [...params, limit],
    );
    for (const row of rows) answered(row);
    return rows;
  }

  /**
   * System-wide aggregates: whole UTC days of the window come from usage_daily_users /
   * usage_daily_totals plus the deltas not folded in yet; only the partial days at the window's
   * edges are read from usage_records (by the time index). One statement, so one snapshot.
   */
  async systemAggregates(range: DateRange, topUsers: number): Promise<AggRow[]> {
    // The window as [start, endExclusive) and the whole UTC days inside it, computed by PostgreSQL
    // (microsecond timestamps).
    const [bounds]: { end_excl: string | null; full_from: string | null; full_to: string | null }[] =
      await queryReplica(
        this.dataSource,
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
    if (range.start) rangeConds.push(`occurred_at >= ${p(range.start)}::timestamptz`);
    if (bounds.end_excl) rangeConds.push(`occurred_at < ${p(bounds.end_excl)}::timestamptz`);
    const fullDays: string[] = [];
    const fullTimes: string[] = [];
    if (bounds.full_from) {
      const from = p(bounds.full_from);
      fullDays.push(`day >= ${from}::date`);
      fullTimes.push(`occurred_at >= ${from}::timestamptz`);
    }
    if (bounds.full_to) {
      const to = p(bounds.full_to);
      fullDays.push(`day < ${to}::date`);
      fullTimes.push(`occurred_at < ${to}::timestamptz`);
    }
    const inFullDays = fullDays.length ? fullDays.join(' AND ') : 'true';
    const edges = [...rangeConds, `NOT (${fullTimes.length ? fullTimes.join(' AND ') : 'true'})`].join(' AND ');
    const top = p(topUsers);

    const rows: AggRow[] = await queryReplica(
      this.dataSource,
      `WITH edge AS (
         SELECT (occurred_at AT TIME ZONE 'UTC')::date AS day, user_id, service,
                COALESCE(${MODEL_KEY_SQL}, '') AS model_key, 1::bigint AS records,
                (credits + ${CORRECTED_CREDITS})::bigint AS credits, provider_cost,
                ${RECORD_KINDS}
           FROM usage_records WHERE ${edges}
       ), pending AS (
         SELECT day, user_id, service, model_key, records, credits, provider_cost, ${KINDS}
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
                sum(records) AS records, sum(credits) AS credits, trim_scale(sum(provider_cost))::text AS provider_cost,
                ${KIND_SUMS}
           FROM (SELECT day, service, NULLIF(model_key, '') AS model_key, records, credits, provider_cost, ${KINDS}
                   FROM (SELECT day, service, model_key, records, credits, provider_cost, ${KINDS} FROM usage_daily_totals WHERE ${inFullDays}
                         UNION ALL SELECT day, service, model_key, records, credits, provider_cost, ${KINDS} FROM pending
                         UNION ALL SELECT day, service, model_key, records, credits, provider_cost, ${KINDS} FROM edge) y) x
          GROUP BY GROUPING SETS ((service), (day), (model_key), ())
         HAVING sum(records) > 0 OR GROUPING(service, day, model_key) = 7
       )
       SELECT 'user' AS kind, user_id AS key, records, credits, NULL AS provider_cost, user_count,
              ${kindList((kind) => `NULL AS ${tokenColumn(kind)}`)}, row_number() OVER (ORDER BY credits DESC, user_id) AS ord
         FROM top_users
       UNION ALL
       SELECT kind, key, records, credits, provider_cost, NULL, ${KINDS}, NULL FROM dims
       ORDER BY kind, ord, key`,
      params,
    );
    return rows;
  }

  /**
   * Credits per named service tier and counts per unit of the window's records (an account's, or all),
   * read from the records that carry a tier or units (a partial index on their time): the daily
   * rollups do not keep them.
   */
  dimensionAggregates(range: DateRange, subject?: Pick<ResolvedAccount, 'accountId'>): Promise<DimensionAggRow[]> {
    const params: unknown[] = [];
    const { where } = subject
      ? subjectRange(subject, range, params)
      : { where: rangeSql(range, 'occurred_at', params).join(' AND ') || 'true' };
    return queryReplica(
      this.dataSource,
      `WITH r AS (SELECT service_tier, units, credits FROM usage_records
                   WHERE (service_tier IS NOT NULL OR units IS NOT NULL) AND ${where})
       SELECT 'tier' AS kind, service_tier AS key, sum(credits)::text AS value
         FROM r WHERE service_tier IS NOT NULL GROUP BY service_tier
       UNION ALL
       SELECT 'unit', u.key, sum(u.value::bigint)::text FROM r, jsonb_each_text(r.units) u GROUP BY u.key
       ORDER BY 1, 2`,
      params,
    );
  }

  /** Folds pending rollup deltas into the daily rollups; returns how many delta rows it folded. */
  async compact(): Promise<number> {
    const rows: { n: string }[] = await this.dataSource.query(`SELECT usage_rollup_compact() AS n`);
    return Number(rows[0].n);
  }
}

/** A service tier's credits or a unit's count (bigint sums as text). */
export interface DimensionAggRow {
  kind: 'tier' | 'unit';
  key: string;
  value: string;
}

/**
 * Whose records the statistics count (`subject`): those its account paid (`account_id`): a user's own
 * use (what they used of an organisation is the org's, whose stats count it by member), or an
 * organisation's.
 */
function subjectRange(
  subject: Pick<ResolvedAccount, 'accountId'>,
  range: DateRange,
  params: unknown[] = [],
): { where: string; params: unknown[] } {
  params.push(subject.accountId);
  const where = [`account_id = $${params.length}::bigint`, ...rangeSql(range, 'occurred_at', params)].join(' AND ');
  return { where, params };
}
