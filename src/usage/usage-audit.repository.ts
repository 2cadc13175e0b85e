import { Injectable } from '@nestjs/common';

import type { AuditFilter } from '../audit/audit.repository.js';
import { cursorTimestampSql } from '../common/http/pagination.js';
import type { SqlPart } from '../database/statement-parts.js';

/**
 * Metering is its own audit trail (docs/audit.md): a record that names credits, written by a
 * principal for another account (`actor_id` set: a service key or an admin's token), is the
 * `usage.record` entry itself. The condition is usage_records_audit_idx's, so every read goes
 * through that index or the account's.
 */
const AUDITED = `r.credits_named AND r.actor_id IS NOT NULL`;

/** The records that are audit entries, read for the audit log's route (src/audit-log/). */
@Injectable()
export class UsageAuditRepository {
  /**
   * The `usage.record` entries matching `filter`, as a part of the audit log's statement
   * (AuditRepository.list): `{id: the record's, at, actor: {userId: actorId, via, apiKeyId?}, action,
   * target: the account charged, before: null, after: {credits, service, operation}, requestId}`.
   * Null when the filter keeps none.
   */
  recordEntries(filter: AuditFilter): SqlPart | null {
    if (filter.action !== undefined && filter.action !== 'usage.record') return null;
    if (filter.targetType !== undefined && filter.targetType !== 'user' && filter.targetType !== 'org') return null;
    const params: unknown[] = [];
    const where = [AUDITED];
    const add = (sql: (n: number) => string, value: unknown) => {
      params.push(value);
      where.push(sql(params.length));
    };
    if (filter.actor !== undefined) add((n) => `r.actor_id = $${n}`, filter.actor);
    if (filter.targetType === 'user') where.push(`r.org_id IS NULL`);
    if (filter.targetType === 'org') where.push(`r.org_id IS NOT NULL`);
    if (filter.targetId !== undefined) {
      add(
        (n) =>
          filter.targetType === 'org'
            ? `r.org_id = $${n}`
            : filter.targetType === 'user'
              ? `r.user_id = $${n}`
              : `(r.org_id = $${n} OR (r.org_id IS NULL AND r.user_id = $${n}))`,
        filter.targetId,
      );
    }
    // `at` shows the record's time to the millisecond, as the log's entries are kept: the bounds hold
    // for what is shown, so a time read from an entry, used as `to`, still finds it.
    if (filter.range.start) add((n) => `r."timestamp" >= $${n}::timestamptz`, filter.range.start);
    if (filter.range.end) {
      add(
        (n) =>
          filter.range.endInclusive
            ? `r."timestamp" < $${n}::timestamptz + interval '1 millisecond'`
            : `r."timestamp" < $${n}::timestamptz`,
        filter.range.end,
      );
    }
    if (filter.after) {
      params.push(filter.after.t, filter.after.id);
      where.push(`(r."timestamp", r.id) < ($${params.length - 1}::timestamptz, $${params.length}::uuid)`);
    }
    const sql = `SELECT r.id, to_char(r."timestamp" AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS at,
                r.actor_id AS actor_user_id, NULL::varchar AS actor_role,
                (CASE WHEN r.api_key_id IS NULL THEN 'jwt' ELSE 'api-key' END)::varchar AS actor_via,
                r.api_key_id AS actor_api_key_id, 'usage.record'::varchar AS action,
                (CASE WHEN r.org_id IS NULL THEN 'user' ELSE 'org' END)::varchar AS target_type,
                COALESCE(r.org_id, r.user_id) AS target_id, NULL::jsonb AS before,
                jsonb_build_object('credits', r.credits, 'service', r.service, 'operation', r.operation) AS after,
                r.request_id, ${cursorTimestampSql('r."timestamp"')} AS t_key, r."timestamp" AS sort_at
           FROM usage_records r
          WHERE ${where.join(' AND ')}`;
    return { sql, params };
  }
}
