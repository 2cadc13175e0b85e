import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';

import type { ErasedRows } from '../common/erasure.js';
import { cursorTimestampSql } from '../common/http/pagination.js';
import { type DateRange, rangeSql } from '../common/validation/date-range.js';
import { shiftParams, type SqlPart } from '../database/statement-parts.js';

export interface AuditInsert {
  actorUserId: string;
  actorRole: string;
  actorVia: 'jwt' | 'api-key' | 'webhook';
  actorApiKeyId: string | null;
  action: string;
  targetType: string;
  targetId: string;
  before: unknown;
  after: unknown;
  requestId: string | null;
}

export interface AuditFilter {
  actor?: string;
  action?: string;
  targetType?: string;
  targetId?: string;
  range: DateRange;
  after: { t: string; id: string } | null;
}

export interface AuditSqlRow {
  id: string;
  at: string;
  actor_user_id: string;
  /** Null on the entries another module's rows are (they keep no role). */
  actor_role: string | null;
  actor_via: 'jwt' | 'api-key';
  actor_api_key_id: string | null;
  action: string;
  target_type: string;
  target_id: string;
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
  request_id: string | null;
  t_key: string;
}

/** audit_log: appended in the caller's transaction, read newest first. Nothing here updates or deletes. */
@Injectable()
export class AuditRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * `at` is the transaction's time cut to milliseconds, the precision it is shown at: a time read
   * from an entry, used as a `from`/`to` bound, then finds that entry.
   */
  /** audit_log_erase() (src/audit/sql/): the user's own entries without their email or username. */
  async eraseMentions(manager: EntityManager, userId: string, targets: ErasedRows[]): Promise<number> {
    const pairs = targets.flatMap((t) => t.ids.map((id) => [t.targetType, id] as const));
    const rows: { n: number }[] = await manager.query(`SELECT audit_log_erase($1, $2::varchar[], $3::varchar[]) AS n`, [
      userId,
      pairs.map((p) => p[0]),
      pairs.map((p) => p[1]),
    ]);
    return rows[0].n;
  }

  async insert(manager: EntityManager, e: AuditInsert): Promise<void> {
    await manager.query(
      `INSERT INTO audit_log (at, actor_user_id, actor_role, actor_via, actor_api_key_id, action, target_type, target_id,
                              before, after, request_id)
       VALUES (date_trunc('milliseconds', now()), $1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9::jsonb, $10)`,
      insertParams(e),
    );
  }

  /**
   * The entry's INSERT inside another module's statement: the actor and action as parameters, the
   * target and `after` as that statement's SQL, written only for the rows of `from` that `where` keeps.
   */
  insertInStatement(
    e: Omit<AuditInsert, 'targetId' | 'before' | 'after'>,
    sql: { from: string; where: string; targetId: string; before: string; after: string },
  ): SqlPart {
    return {
      sql: `INSERT INTO audit_log (at, actor_user_id, actor_role, actor_via, actor_api_key_id, action, target_type,
                                   target_id, before, after, request_id)
            SELECT date_trunc('milliseconds', now()), $1::varchar, $2::varchar, $3::varchar, $4::uuid, $5::varchar,
                   $6::varchar, ${sql.targetId}, ${sql.before}, ${sql.after}, $7::varchar
              FROM ${sql.from} WHERE ${sql.where}
            RETURNING id AS audit_entry_id`,
      params: [e.actorUserId, e.actorRole, e.actorVia, e.actorApiKeyId, e.action, e.targetType, e.requestId],
    };
  }

  /**
   * The entries of audit_log matching `filter` and the `otherEntries`, newest first, merged in ONE
   * statement: each part reads at most `limit + 1` entries through its own index, the merge keeps the
   * newest of them. An other part is the entries another module's rows are themselves (a usage record
   * naming credits for another account), handed down by the route above both modules: SQL with its
   * own `$1…$n`, matching the same filter, with the columns of an AuditSqlRow and `sort_at`
   * (timestamptz: the instant `at` shows, to the microsecond), keyset-limited by `filter.after` on
   * (`sort_at`, `id`) and ordered here.
   */
  list(filter: AuditFilter, limit: number, otherEntries: readonly SqlPart[]): Promise<AuditSqlRow[]> {
    const params: unknown[] = [];
    const where: string[] = [];
    const add = (sql: (n: number) => string, value: unknown) => {
      params.push(value);
      where.push(sql(params.length));
    };
    if (filter.actor !== undefined) add((n) => `a.actor_user_id = $${n}`, filter.actor);
    if (filter.action !== undefined) add((n) => `a.action = $${n}`, filter.action);
    if (filter.targetType !== undefined) add((n) => `a.target_type = $${n}`, filter.targetType);
    if (filter.targetId !== undefined) add((n) => `a.target_id = $${n}`, filter.targetId);
    where.push(...rangeSql(filter.range, 'a.at', params));
    if (filter.after) {
      params.push(filter.after.t, filter.after.id);
      where.push(`(a.at, a.id) < ($${params.length - 1}::timestamptz, $${params.length}::uuid)`);
    }
    const logged = `SELECT a.id, to_char(a.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS at,
              a.actor_user_id, a.actor_role, a.actor_via, a.actor_api_key_id, a.action, a.target_type, a.target_id,
              a.before, a.after, a.request_id, ${cursorTimestampSql('a.at')} AS t_key, a.at AS sort_at
         FROM audit_log a
        ${where.length ? `WHERE ${where.join(' AND ')}` : ''}`;
    const parts = [logged];
    for (const other of otherEntries) {
      parts.push(shiftParams(other.sql, params.length));
      params.push(...other.params);
    }
    params.push(limit + 1);
    const take = `ORDER BY sort_at DESC, id DESC LIMIT $${params.length}`;
    const sql =
      parts.length === 1
        ? `${parts[0]} ${take}`
        : `SELECT * FROM (${parts.map((part) => `(${part} ${take})`).join(' UNION ALL ')}) e ${take}`;
    return this.dataSource.query(sql, params);
  }
}

function insertParams(e: AuditInsert): unknown[] {
  return [
    e.actorUserId,
    e.actorRole,
    e.actorVia,
    e.actorApiKeyId,
    e.action,
    e.targetType,
    e.targetId,
    e.before === null ? null : JSON.stringify(e.before),
    e.after === null ? null : JSON.stringify(e.after),
    e.requestId,
  ];
}
