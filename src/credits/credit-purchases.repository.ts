import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

import type { AccountKind } from '../accounts/entities/account.entity.js';

/** The engine's purchase movements (src/credits/sql/): grant, take back, freeze. */
@Injectable()
export class CreditPurchasesRepository {
  /**
   * credits_grant() for a purchase: the allocation (source `purchase`), its `grant` line and the repay
   * of the account's debt, under the account lock. Null when the purchase has its allocation already
   * (credit_allocations_purchase_id_key decides) or the account does not exist.
   */
  async grant(
    manager: EntityManager,
    input: {
      kind: AccountKind;
      ownerId: string;
      purchaseId: string;
      credits: number;
      expiresAt: Date;
      createdBy: string;
      apiKeyId: string | null;
      notes: string;
    },
  ): Promise<{ id: string; remaining_credits: number; expires_at: Date } | null> {
    const rows: { id: string; remaining_credits: number; expires_at: Date }[] = await manager.query(
      `SELECT id, remaining_credits, expires_at
         FROM credits_grant($1, $2, $3, $4, $5, 'purchase', NULL, NULL, NULL, true, $6, $7::uuid, $8::uuid)`,
      [
        input.ownerId,
        input.credits,
        input.createdBy,
        input.expiresAt,
        input.notes,
        input.kind,
        input.purchaseId,
        input.apiKeyId,
      ],
    );
    return rows[0] ?? null;
  }

  /** The purchase's allocation: its id and what it has left that could be spent (0 once expired). */
  async allocationOf(
    manager: EntityManager,
    purchaseId: string,
  ): Promise<{ id: string; refundable: number; frozen: number } | null> {
    const rows: { id: string; refundable: number; frozen: number }[] = await manager.query(
      `SELECT a.id,
              CASE WHEN credit_allocation_live(a.expires_at) THEN a.remaining_credits ELSE 0 END AS refundable,
              COALESCE((SELECT -sum(l.amount) FROM credit_ledger l
                         WHERE l.allocation_id = a.id AND l.kind IN ('freeze', 'unfreeze')), 0)::int AS frozen
         FROM credit_allocations a WHERE a.purchase_id = $1`,
      [purchaseId],
    );
    return rows[0] ?? null;
  }

  async takeBack(
    manager: EntityManager,
    input: {
      allocationId: string;
      credits: number;
      allowDebt: boolean;
      debtBefore: number;
      createdBy: string;
      apiKeyId: string | null;
      thresholds: number[];
    },
  ): Promise<{ taken: number; debt: number; refundable: number }> {
    const rows: { out_taken: number; out_debt: number; out_refundable: number }[] = await manager.query(
      `SELECT * FROM credits_take_back($1, $2, $3, $4, $5, $6, $7)`,
      [
        input.allocationId,
        input.credits,
        input.allowDebt,
        input.debtBefore,
        input.createdBy,
        input.thresholds,
        input.apiKeyId,
      ],
    );
    return { taken: rows[0].out_taken, debt: rows[0].out_debt, refundable: rows[0].out_refundable };
  }

  async freeze(
    manager: EntityManager,
    input: { allocationId: string; freeze: boolean; createdBy: string; apiKeyId: string | null; thresholds: number[] },
  ): Promise<number> {
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
