import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

import type { ErasedPerson, ErasedRows } from '../common/erasure.js';

/** An erasure's pass over portal_sessions (docs/erasure.md). */
@Injectable()
export class PortalErasureRepository {
  /**
   * The person's portal sessions (`user_id`, indexed) end now: their tokens stop working at the next
   * request (a session holds no name or address). Answers the sessions, for the audit pass.
   */
  async erase(manager: EntityManager, person: ErasedPerson): Promise<ErasedRows> {
    const rows: { id: string }[] = await manager.query(
      `WITH ended AS (
         UPDATE portal_sessions SET ended_at = COALESCE(ended_at, now()) WHERE user_id = $1 RETURNING id)
       SELECT id::text AS id FROM ended`,
      [person.userId],
    );
    return { targetType: 'portal_session', ids: rows.map((r) => r.id) };
  }
}
