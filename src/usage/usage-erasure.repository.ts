import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

import { EMAIL_RE, type ErasedPerson, type ErasedRows, erasureParams, NAME_RE } from '../common/erasure.js';

/**
 * An erasure's pass over the person's usage records and their corrections (docs/erasure.md). What a
 * record cost stays; its words lose the person: `operation` (a label the client chose) and `metadata`
 * lose the email, `metadata`'s name keys and the resolution note and correction reasons lose the
 * username too.
 */
@Injectable()
export class UsageErasureRepository {
  /** Answers the person's records that were corrected or resolved: their audit entries are theirs too. */
  async erase(manager: EntityManager, person: ErasedPerson): Promise<ErasedRows> {
    const [row]: { records: string[]; renamed: string[]; old_operations: string[] }[] = await manager.query(
      `WITH own AS (
         SELECT r.id, erase_text(r.operation, ${EMAIL_RE}, NULL) AS operation,
                erase_json(r.metadata, ${EMAIL_RE}, ${NAME_RE}, false) AS metadata,
                erase_text(r.resolution_note, ${EMAIL_RE}, ${NAME_RE}) AS resolution_note,
                r.operation AS old_operation, r.metadata AS old_metadata, r.resolution_note AS old_note,
                r.resolved_by IS NOT NULL AS resolved
           FROM usage_records r WHERE r.user_id = $1),
       records_erased AS (
         UPDATE usage_records r
            SET operation = o.operation, metadata = o.metadata, resolution_note = o.resolution_note
           FROM own o
          WHERE r.id = o.id
            AND (o.operation IS DISTINCT FROM o.old_operation OR o.metadata IS DISTINCT FROM o.old_metadata
                 OR o.resolution_note IS DISTINCT FROM o.old_note)),
       fixes AS (
         SELECT c.id, c.record_id, erase_text(c.reason, ${EMAIL_RE}, ${NAME_RE}) AS reason, c.reason AS old_reason
           FROM usage_corrections c JOIN own o ON c.record_id = o.id),
       fixes_erased AS (
         UPDATE usage_corrections c SET reason = f.reason FROM fixes f
          WHERE c.id = f.id AND f.reason IS DISTINCT FROM f.old_reason),
       renamed AS (SELECT id, old_operation FROM own WHERE operation IS DISTINCT FROM old_operation)
       SELECT ARRAY(SELECT id::text FROM own WHERE resolved UNION SELECT record_id::text FROM fixes) AS records,
              ARRAY(SELECT id::text FROM renamed ORDER BY id) AS renamed,
              ARRAY(SELECT old_operation FROM renamed ORDER BY id) AS old_operations`,
      erasureParams(person),
    );
    if (row.renamed.length > 0) {
      // A separate statement: the update's rollup deltas are written when its statement ends.
      await manager.query(`SELECT usage_rollup_forget($1::uuid[], $2::varchar[])`, [row.renamed, row.old_operations]);
    }
    return { targetType: 'usage_record', ids: row.records };
  }
}
