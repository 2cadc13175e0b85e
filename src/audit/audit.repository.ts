import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';

import { cursorTimestampSql } from '../common/http/pagination.js';
import { type DateRange, rangeSql } from '../common/validation/date-range.js';
import type { SqlPart } from '../database/statement-parts.js';

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
  actor_role: string;
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
  async insert(manager: EntityManager, e: AuditInsert): Promise<void> {
    await manager.query(
      `INSERT INTO audit_log (at, actor_user_id, actor_role, actor_via, actor_api_key_id, action, target_type, target_id,
                              before, after, request_id)
       VALUES (date_trunc('milliseconds', now()), $1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9::jsonb, $10)`,
      insertParams(e),
    );
  }

  /**
   * `insert` inside another module's statement, once for each row of `sql.from`, with `sql.patch`
   * (a jsonb object in that statement's SQL) merged over `after`.
   */
  insertOver(e: AuditInsert, sql: { from: string; patch: string }): SqlPart {
    return {
      sql: `INSERT INTO audit_log (at, actor_user_id, actor_role, actor_via, actor_api_key_id, action, target_type,
                                   target_id, before, after, request_id)
            SELECT date_trunc('milliseconds', now()), $1::varchar, $2::varchar, $3::varchar, $4::uuid, $5::varchar,
                   $6::varchar, $7::varchar, $8::jsonb, $9::jsonb || ${sql.patch}, $10::varchar
              FROM ${sql.from}
            RETURNING id AS audit_entry_id`,
      params: insertParams(e),
    };
  }

  /**
   * Many entries inside another module's statement (ONE INSERT however many): each entry is written
   * when its target id is a key of `sql.written` (SQL answering one jsonb object, over that
   * statement's CTEs), with `sql.patches` (SQL answering a jsonb object of jsonb objects by target
   * id: what only the statement knows, such as the database's clock; none: `after` as given) merged
   * over `after`. The entries go as one jsonb parameter, in their order. Lookups in objects, not a
   * join: the planner cannot size a statement's CTEs, and joined a 1,000-entry batch to its records
   * by a nested loop (a million comparisons, more than the rest of the batch's statement).
   */
  insertManyOver(entries: AuditInsert[], sql: { written: string; patches?: string }): SqlPart {
    const rows = entries.map((e) => ({
      actor_user_id: e.actorUserId,
      actor_role: e.actorRole,
      actor_via: e.actorVia,
      actor_api_key_id: e.actorApiKeyId ?? undefined,
      action: e.action,
      target_type: e.targetType,
      target_id: e.targetId,
      before: e.before ?? undefined,
      after: e.after ?? undefined,
      request_id: e.requestId ?? undefined,
    }));
    // Uncorrelated subqueries: each object is built once for the statement (an InitPlan).
    const patched = sql.patches ? ` || ((${sql.patches}) -> e.target_id)` : '';
    return {
      sql: `INSERT INTO audit_log (at, actor_user_id, actor_role, actor_via, actor_api_key_id, action, target_type,
                                   target_id, before, after, request_id)
            SELECT date_trunc('milliseconds', now()), e.actor_user_id, e.actor_role, e.actor_via, e.actor_api_key_id,
                   e.action, e.target_type, e.target_id, e.before, e.after${patched}, e.request_id
              FROM ROWS FROM (jsonb_to_recordset($1::jsonb) AS (actor_user_id varchar, actor_role varchar, actor_via varchar,
                                actor_api_key_id uuid, action varchar, target_type varchar, target_id varchar,
                                before jsonb, after jsonb, request_id varchar)) WITH ORDINALITY
                   AS e(actor_user_id, actor_role, actor_via, actor_api_key_id, action, target_type, target_id,
                        before, after, request_id, ord)
             WHERE (${sql.written}) ? e.target_id
             ORDER BY e.ord
            RETURNING id AS audit_entry_id`,
      params: [JSON.stringify(rows)],
    };
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

  list(filter: AuditFilter, limit: number): Promise<AuditSqlRow[]> {
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
    params.push(limit + 1);
    return this.dataSource.query(
      `SELECT a.id, to_char(a.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS at,
              a.actor_user_id, a.actor_role, a.actor_via, a.actor_api_key_id, a.action, a.target_type, a.target_id,
              a.before, a.after, a.request_id, ${cursorTimestampSql('a.at')} AS t_key
         FROM audit_log a
        ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY a.at DESC, a.id DESC
        LIMIT $${params.length}`,
      params,
    );
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
