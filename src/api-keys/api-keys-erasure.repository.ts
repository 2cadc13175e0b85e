import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

import { EMAIL_RE, type ErasedPerson, type ErasedRows, erasureParams, NAME_RE } from '../common/erasure.js';

/** An erasure's pass over api_keys (docs/erasure.md). */
@Injectable()
export class ApiKeysErasureRepository {
  /**
   * Every key of the person (theirs, their org keys, their portal sessions' keys; `user_id`, indexed)
   * is revoked, so none authenticates again, and its name loses the email and the username (a key's
   * name is words the person or staff chose about them). Answers the keys, whose audit entries are
   * the person's too.
   */
  async erase(manager: EntityManager, person: ErasedPerson): Promise<ErasedRows> {
    const rows: { id: string }[] = await manager.query(
      `UPDATE api_keys SET name = erase_text(name, ${EMAIL_RE}, ${NAME_RE}), revoked_at = COALESCE(revoked_at, now())
        WHERE user_id = $1
       RETURNING id::text AS id`,
      erasureParams(person),
    );
    return { targetType: 'api_key', ids: rows.map((r) => r.id) };
  }
}
