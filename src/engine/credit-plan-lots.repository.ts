import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

/** An allocation live at an instant, as a plan change reads it (src/plans/plan-change.ts). */
export interface LiveLotRow {
  id: string;
  source: string;
  total_credits: number;
  remaining_credits: number;
  expires_at: Date;
}

/** The lots a plan change reads and the engine's one movement only a change makes (credits_expire_now()). */
@Injectable()
export class CreditPlanLotsRepository {
  /**
   * The account's allocations unexpired at `at`, soonest-expiring first, with what each has left
   * (held credits are out of it already). Read under the account lock the caller took.
   */
  async liveLots(manager: EntityManager, accountId: string, at: Date): Promise<LiveLotRow[]> {
    return manager.query(
      `SELECT id, source, total_credits, remaining_credits, expires_at FROM credit_allocations
        WHERE account_id = $1::bigint AND expires_at > $2
        ORDER BY expires_at, allocated_at, id`,
      [accountId, at],
    );
  }

  /**
   * Σ credits granted by the user's plan allocations unexpired at `at` (voided, spent or rolled over
   * ones too: what counts is what was granted, not what is left). A plan allocation is granted only
   * once its period has begun, so these are the ones whose period holds `at`; not testing the start
   * too keeps a grant made by a caller whose clock runs a little ahead in the sum.
   */
  async creditsInForce(manager: EntityManager, accountId: string, at: Date): Promise<number> {
    const rows: { n: string }[] = await manager.query(
      `SELECT COALESCE(SUM(total_credits), 0)::bigint AS n FROM credit_allocations
        WHERE account_id = $1::bigint AND source = 'plan' AND expires_at > $2`,
      [accountId, at],
    );
    return Number(rows[0].n);
  }

  /**
   * Ends the account's live plan lots `ids` at `at`, the change's instant (credits_expire_now()):
   * the credits they had left, which leave now.
   */
  async expireNow(
    manager: EntityManager,
    input: { accountId: string; ids: string[]; at: Date; thresholds: number[] },
  ): Promise<number> {
    const rows: { out_credits: string }[] = await manager.query(
      `SELECT out_credits FROM credits_expire_now($1::bigint, $2::uuid[], $3, $4::int[])`,
      [input.accountId, input.ids, input.at, input.thresholds],
    );
    return Number(rows[0].out_credits);
  }
}
