import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

import type { HeldPart } from './credits.repository.js';

/**
 * credit_holds (a streaming session's outstanding hold, the budgeted key it counted against) and the
 * ledger reads that say which allocations a hold came from. Only CreditsService uses it.
 */
@Injectable()
export class CreditHoldsRepository {
  /**
   * Adds to a session's outstanding hold, remembering the budgeted key it counted against (and that
   * key's period); false when the hold is settled or another user's.
   */
  async addToHold(
    manager: EntityManager,
    hold: { sessionId: string; userId: string; amount: number; apiKeyId: string | null },
  ): Promise<boolean> {
    const rows: unknown[] = await manager.query(
      `INSERT INTO credit_holds (session_id, user_id, outstanding, api_key_id, key_period_start)
       SELECT $1, $2, $3, s.api_key_id, s.period_start
         FROM (SELECT $4::uuid AS id) k LEFT JOIN credit_key_spend s ON s.api_key_id = k.id
       ON CONFLICT (session_id) DO UPDATE SET outstanding = credit_holds.outstanding + EXCLUDED.outstanding
        WHERE credit_holds.user_id = EXCLUDED.user_id AND credit_holds.settled_at IS NULL
       RETURNING session_id`,
      [hold.sessionId, hold.userId, hold.amount, hold.apiKeyId],
    );
    return rows.length > 0;
  }

  /** Gives `amount` back to the budget of the key a hold counted against, if still in that period. */
  async giveBackToKey(manager: EntityManager, sessionId: string, amount: number): Promise<void> {
    await manager.query(
      `UPDATE credit_key_spend s SET spent = GREATEST(s.spent - $2, 0)
         FROM credit_holds h
        WHERE h.session_id = $1 AND s.api_key_id = h.api_key_id AND s.period_start = h.key_period_start`,
      [sessionId, amount],
    );
  }

  async lockHold(
    manager: EntityManager,
    sessionId: string,
  ): Promise<{ outstanding: number; settled: boolean; user_id: string; api_key_id: string | null } | null> {
    const rows: { outstanding: number; settled: boolean; user_id: string; api_key_id: string | null }[] =
      await manager.query(
        `SELECT outstanding, settled_at IS NOT NULL AS settled, user_id, api_key_id FROM credit_holds
        WHERE session_id = $1 FOR UPDATE`,
        [sessionId],
      );
    return rows[0] ?? null;
  }

  async reduceHold(manager: EntityManager, sessionId: string, amount: number): Promise<void> {
    await manager.query(`UPDATE credit_holds SET outstanding = outstanding - $2 WHERE session_id = $1`, [
      sessionId,
      amount,
    ]);
  }

  async markHoldSettled(manager: EntityManager, sessionId: string, userId: string): Promise<void> {
    await manager.query(
      `INSERT INTO credit_holds (session_id, user_id, outstanding, settled_at) VALUES ($1, $2, 0, now())
       ON CONFLICT (session_id) DO UPDATE SET outstanding = 0, settled_at = now()`,
      [sessionId, userId],
    );
  }

  /** What the session still holds per allocation, latest expiry first (the order credits go back in). */
  async heldParts(manager: EntityManager, sessionId: string, userId: string): Promise<HeldPart[]> {
    return manager.query(
      `SELECT l.allocation_id, (-SUM(l.amount))::bigint AS outstanding, a.expires_at > now() AS active,
              a.voided_at IS NOT NULL AS voided,
              (SELECT COALESCE(SUM(c.remaining_credits), 0) FROM credit_allocations c
                WHERE c.user_id = $2 AND c.expires_at > now())::bigint AS available
         FROM credit_ledger l JOIN credit_allocations a ON a.id = l.allocation_id
        WHERE l.session_id = $1 AND l.user_id = $2 AND l.kind IN ('hold', 'release')
        GROUP BY l.allocation_id, a.expires_at, a.allocated_at, a.voided_at
       HAVING SUM(l.amount) < 0
        ORDER BY a.expires_at DESC, a.allocated_at DESC, l.allocation_id DESC`,
      [sessionId, userId],
    );
  }
}
