import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

import { accountErasureParams, EMAIL_RE, type ErasedPerson, type ErasedRows, NAME_RE } from '../common/erasure.js';

/**
 * An erasure's pass over the credit tables' words (docs/erasure.md): credits_erase_words(), the
 * engine's function, rewrites the notes and reasons staff wrote on the person's allocations and
 * transfers; nothing of the money changes.
 */
@Injectable()
export class CreditsErasureRepository {
  /** Answers the allocations and transfers of the person's account, whose audit entries are theirs too. */
  async erase(manager: EntityManager, person: ErasedPerson): Promise<ErasedRows[]> {
    const rows: { target_type: string; target_id: string }[] = await manager.query(
      `SELECT w.target_type, w.target_id
         FROM credits_erase_words($1::bigint, ${EMAIL_RE}, ${NAME_RE}) w`,
      accountErasureParams(person),
    );
    return ['allocation', 'credit_transfer'].map((targetType) => ({
      targetType,
      ids: rows.filter((r) => r.target_type === targetType).map((r) => r.target_id),
    }));
  }
}
