import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

import type { FreezeInput, TakeBackInput, TakenBack } from './credit-views.js';

/** A purchase's allocation: its free credits and their money (0 once expired), what a dispute froze. */
export interface AllocationOfPurchase {
  id: string;
  refundable: number;
  /** The money of the refundable credits, minor units (null: no value, an allocation older than values). */
  refundable_minor: string | null;
  frozen: number;
}

/**
 * The engine's movements of a purchase's allocation (src/engine/sql/): take back, freeze. Its grant is
 * every grant's (CreditsRepository.grant() with the purchase id and its value).
 */
@Injectable()
export class CreditPurchasesRepository {
  /** The purchase's allocation: its id and what it has left that could be spent (0 once expired). */
  async allocationOf(manager: EntityManager, purchaseId: string): Promise<AllocationOfPurchase | null> {
    const rows: AllocationOfPurchase[] = await manager.query(
      `SELECT a.id,
              CASE WHEN credit_allocation_live(a.expires_at) THEN a.remaining_credits ELSE 0 END AS refundable,
              CASE WHEN credit_allocation_live(a.expires_at) THEN a.value_remaining_minor ELSE 0 END AS refundable_minor,
              COALESCE((SELECT -sum(l.amount) FROM credit_ledger l
                         WHERE l.allocation_id = a.id AND l.kind IN ('freeze', 'unfreeze')), 0)::int AS frozen
         FROM credit_allocations a WHERE a.purchase_id = $1`,
      [purchaseId],
    );
    return rows[0] ?? null;
  }

  async takeBack(manager: EntityManager, input: TakeBackInput & { thresholds: number[] }): Promise<TakenBack> {
    const rows: { out_taken: number; out_debt: number; out_refundable: number }[] = await manager.query(
      `SELECT * FROM credits_take_back($1, $2, $3, $4, $5, $6, $7, $8)`,
      [
        input.allocationId,
        input.credits,
        input.allowDebt,
        input.debtBefore,
        input.createdBy,
        input.thresholds,
        input.apiKeyId,
        input.chargeback ?? false,
      ],
    );
    return { taken: rows[0].out_taken, debt: rows[0].out_debt, refundable: rows[0].out_refundable };
  }

  /** The money the allocation's latest refund line took (minor units, positive); 0n when none. */
  async lastRefundMinor(manager: EntityManager, allocationId: string): Promise<bigint> {
    const rows: { v: string | null }[] = await manager.query(
      `SELECT -l.value_minor AS v FROM credit_ledger l
        WHERE l.allocation_id = $1 AND l.kind = 'refund' ORDER BY l.id DESC LIMIT 1`,
      [allocationId],
    );
    return BigInt(rows[0]?.v ?? 0);
  }

  async freeze(manager: EntityManager, input: FreezeInput & { thresholds: number[] }): Promise<number> {
    const rows: { n: number }[] = await manager.query(`SELECT credits_freeze($1, $2, $3, $4, $5) AS n`, [
      input.allocationId,
      input.freeze,
      input.createdBy,
      input.thresholds,
      input.apiKeyId,
    ]);
    return rows[0].n;
  }
}
