import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

import type { ErasedPerson, ErasedRows } from '../common/erasure.js';

/**
 * An erasure's pass over the person's usage records and their corrections (docs/erasure.md). What a
 * record cost stays; its words lose the person (each whole word becomes `[erased]`): `operation`,
 * the four budget scope ids, the resolution note and the correction reasons lose the email and the
 * username, `metadata` the email anywhere and the username under its name keys. A record is written once (the service's role may update its review state only), so
 * the rewrite is usage_records_erase(), which runs as the tables' owner and reads the email and
 * username from the account itself.
 */
@Injectable()
export class UsageErasureRepository {
  /** Answers the person's records that were corrected or resolved: their audit entries are theirs too. */
  async erase(manager: EntityManager, person: ErasedPerson): Promise<ErasedRows> {
    const [row]: { erased_records: string[]; renamed_ids: string[]; renamed_operations: string[] }[] =
      await manager.query(`SELECT * FROM usage_records_erase($1)`, [person.userId]);
    if (row.renamed_ids.length > 0) {
      // A separate statement: the update's rollup deltas are written when its statement ends.
      await manager.query(`SELECT usage_rollup_forget($1::uuid[], $2::varchar[])`, [
        row.renamed_ids,
        row.renamed_operations,
      ]);
    }
    return { targetType: 'usage_record', ids: row.erased_records };
  }
}
