import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

/**
 * The credit jobs' statements: expiry (with credits.expired and the balance alerts it crossed) and
 * the credits.expiring notices. Each is one statement over a batch, `FOR UPDATE SKIP LOCKED`, so
 * several instances can run them at once.
 */
@Injectable()
export class CreditJobsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * One batch of the credits.expiring notices: allocations expiring within `hours` not yet
   * considered are marked, and those with credits left get their event, in one statement. Rows a
   * movement or another instance holds are skipped (the next run gets them).
   */
  async noticeExpiringBatch(hours: number, batch: number): Promise<{ processed: number; told: number }> {
    const rows: { processed: string; told: string }[] = await this.dataSource.query(
      `WITH due AS (
         SELECT id, user_id, remaining_credits, expires_at FROM credit_allocations
          WHERE NOT expiring_notified AND expires_at > now() AND expires_at <= now() + make_interval(hours => $1)
          ORDER BY expires_at LIMIT $2
          FOR UPDATE SKIP LOCKED),
       marked AS (
         UPDATE credit_allocations a SET expiring_notified = true FROM due WHERE a.id = due.id RETURNING a.id),
       told AS (
         SELECT emit_event('credits.expiring', due.user_id, jsonb_build_object(
                  'userId', due.user_id, 'allocationId', due.id, 'remainingCredits', due.remaining_credits,
                  'expiresAt', to_char(due.expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')))
           FROM due WHERE due.remaining_credits > 0)
       SELECT (SELECT count(*) FROM marked) AS processed, (SELECT count(*) FROM told) AS told`,
      [hours, batch],
    );
    return { processed: Number(rows[0].processed), told: Number(rows[0].told) };
  }

  /**
   * One batch of the expiry job: every expired allocation not yet processed (`expiry_done`, migration
   * 1732000006000) gets one `expire` entry when it still has credits, remaining 0, and is marked done
   * (also when nothing was left), so the job's index holds only what is still due. Rows another
   * instance or a user transaction holds are skipped (the next run gets them).
   */
  async expireBatch(
    batch: number,
    thresholds: number[],
  ): Promise<{ processed: number; expired: number; credits: number }> {
    const rows: { processed: string; expired: string; credits: string }[] = await this.dataSource.query(
      `WITH due AS (
         SELECT id, user_id, remaining_credits FROM credit_allocations c
          WHERE expires_at <= now() AND NOT expiry_done
            -- a plan period's credits wait for its renewal, which may roll some of them over
            AND NOT (c.source = 'plan' AND EXISTS (
                  SELECT 1 FROM subscriptions s
                   WHERE s.id = c.subscription_id AND s.ended_at IS NULL AND s.next_grant_at <= c.expires_at))
          ORDER BY expires_at LIMIT $1
          FOR UPDATE SKIP LOCKED),
       zeroed AS (
         UPDATE credit_allocations a SET remaining_credits = 0, expiry_done = true FROM due WHERE a.id = due.id RETURNING a.id),
       entries AS (
         INSERT INTO credit_ledger (user_id, allocation_id, kind, amount, balance_after, created_by)
         SELECT due.user_id, due.id, 'expire', -due.remaining_credits,
                credit_available(due.user_id),
                'system'
           FROM due JOIN zeroed ON zeroed.id = due.id
          WHERE due.remaining_credits > 0
         RETURNING user_id, allocation_id, amount, balance_after),
       -- credits.expired per allocation, and the balance alerts its users' expiries crossed (the
       -- balance had dropped when the allocations expired; the job tells it now)
       told AS (
         SELECT emit_event('credits.expired', e.user_id,
                  jsonb_build_object('userId', e.user_id, 'allocationId', e.allocation_id, 'credits', -e.amount))
           FROM entries e),
       alerts AS (
         SELECT credit_balance_alerts(g.user_id, g.after + g.expired, g.after,
                  COALESCE((SELECT low_balance_thresholds FROM credit_accounts c WHERE c.user_id = g.user_id), $2::int[]))
           FROM (SELECT user_id, MIN(balance_after) AS after, -SUM(amount) AS expired FROM entries GROUP BY user_id) g)
       SELECT (SELECT count(*) FROM zeroed) AS processed, (SELECT count(*) FROM entries) AS expired,
              (SELECT COALESCE(-SUM(amount), 0) FROM entries) AS credits,
              (SELECT count(*) FROM told) + (SELECT count(*) FROM alerts) AS side_effects`,
      [batch, thresholds],
    );
    return { processed: Number(rows[0].processed), expired: Number(rows[0].expired), credits: Number(rows[0].credits) };
  }
}
