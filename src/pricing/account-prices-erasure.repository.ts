import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

import { EMAIL_RE, type ErasedPerson, type ErasedRows, erasureParams, NAME_RE } from '../common/erasure.js';

/** An erasure's pass over the notes on the person's account prices (docs/erasure.md); prices stay. */
@Injectable()
export class AccountPricesErasureRepository {
  /** Answers the person's account prices, whose audit entries are theirs too. */
  async erase(manager: EntityManager, person: ErasedPerson): Promise<ErasedRows> {
    const [row]: { prices: string[] }[] = await manager.query(
      `WITH own AS (
         SELECT id, erase_text(notes, ${EMAIL_RE}, ${NAME_RE}) AS notes, notes AS old_notes
           FROM account_prices WHERE user_id = $1),
       erased AS (
         UPDATE account_prices p SET notes = o.notes FROM own o WHERE p.id = o.id AND o.notes IS DISTINCT FROM o.old_notes)
       SELECT ARRAY(SELECT id::text FROM own) AS prices`,
      erasureParams(person),
    );
    return { targetType: 'account_price', ids: row.prices };
  }
}
