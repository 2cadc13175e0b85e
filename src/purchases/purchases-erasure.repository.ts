import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

import { accountErasureParams, EMAIL_RE, type ErasedPerson, type ErasedRows, NAME_RE } from '../common/erasure.js';

/** An erasure's pass over the reasons written on the person's purchases and refunds (docs/erasure.md). */
@Injectable()
export class PurchasesErasureRepository {
  /** Amounts and states stay. Answers the purchases, whose audit entries are the person's too. */
  async erase(manager: EntityManager, person: ErasedPerson): Promise<ErasedRows> {
    const [row]: { purchases: string[] }[] = await manager.query(
      `WITH own AS (
         SELECT p.id, erase_text(p.reason, ${EMAIL_RE}, ${NAME_RE}) AS reason, p.reason AS old_reason
           FROM purchases p WHERE p.account_id = $1::bigint),
       purchases_erased AS (
         UPDATE purchases p SET reason = o.reason FROM own o WHERE p.id = o.id AND o.reason IS DISTINCT FROM o.old_reason),
       refunds AS (
         SELECT r.id, erase_text(r.reason, ${EMAIL_RE}, ${NAME_RE}) AS reason, r.reason AS old_reason
           FROM purchase_refunds r JOIN own o ON r.purchase_id = o.id),
       refunds_erased AS (
         UPDATE purchase_refunds r SET reason = f.reason FROM refunds f
          WHERE r.id = f.id AND f.reason IS DISTINCT FROM f.old_reason)
       SELECT ARRAY(SELECT id::text FROM own) AS purchases`,
      accountErasureParams(person),
    );
    return { targetType: 'purchase', ids: row.purchases };
  }
}
