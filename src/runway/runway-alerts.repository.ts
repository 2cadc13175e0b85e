import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';

import type { ResolvedAccount } from '../auth/account-access.js';

/** `runway_alerts` (docs/credits.md "Runway alerts") and the accounts the alert job looks at. */
@Injectable()
export class RunwayAlertsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * Up to `batch` accounts, by id after `afterId`, with metered usage since `since` (the runway's
   * burn: its ledger lines, or a streaming session settled): an account that used nothing has no burn,
   * so no run-out day to alert on. The ledger's BRIN index on created_at and credit_holds' on
   * settled_at keep the scans to the window.
   */
  async withRecentUsage(since: Date, afterId: string, batch: number): Promise<ResolvedAccount[]> {
    const rows: { account_id: string; kind: 'user' | 'org'; owner_id: string }[] = await this.dataSource.query(
      `SELECT a.account_id, a.kind, COALESCE(a.user_id, a.org_id) AS owner_id
         FROM accounts a
        WHERE a.account_id > $2::bigint
          AND a.account_id IN (SELECT l.account_id FROM credit_ledger l
                                WHERE l.created_at >= $1
                                  AND (l.kind = 'overdraft' OR (l.category::text = ANY ('{recognized,corrected}'::text[])
                                                                AND l.kind <> 'repay'))
                               UNION ALL
                               SELECT h.account_id FROM credit_holds h WHERE h.settled_at >= $1)
        ORDER BY a.account_id
        LIMIT $3`,
      [since, afterId, batch],
    );
    // Read as the job, not through a member: no member, no role.
    return rows.map((r) => ({
      accountId: String(r.account_id),
      kind: r.kind,
      ownerId: r.owner_id,
      memberId: null,
      memberRole: null,
    }));
  }

  /**
   * Records the thresholds `days` as given for the account and run-out day `runsOutOn` (YYYY-MM-DD);
   * answers those not given before. An instance inserting the same key at once waits for this
   * transaction and then finds it: each key is answered once.
   */
  async give(manager: EntityManager, accountId: string, days: number[], runsOutOn: string): Promise<number[]> {
    const rows: { days: number }[] = await manager.query(
      `INSERT INTO runway_alerts (account_id, days, runs_out_on)
       SELECT $1::bigint, d, $3::date FROM unnest($2::integer[]) AS d
       ON CONFLICT DO NOTHING
       RETURNING days`,
      [accountId, days, runsOutOn],
    );
    return rows.map((r) => r.days);
  }

  /** Deletes the alerts of run-out days before `day` (YYYY-MM-DD): a run-out day never comes back once past. */
  async forgetBefore(day: string): Promise<number> {
    const rows: unknown[] = await this.dataSource.query(
      `DELETE FROM runway_alerts WHERE runs_out_on < $1::date RETURNING 1`,
      [day],
    );
    return rows.length;
  }
}
