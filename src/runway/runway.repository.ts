import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';

import type { PlanPeriod } from '../plans/periods.js';

/** What the account burned in a window: credits net of corrections, and the records and sessions behind them. */
export interface BurnRow {
  burned: bigint;
  records: number;
}

/** A lot of the balance at an instant: what its ledger lines had left it, and when it expires. */
export interface LotRow {
  credits: number;
  expiresAt: Date;
}

export interface SubscriptionRow {
  startsAt: Date;
  credits: number;
  period: PlanPeriod;
  /** A change scheduled for the period's end: the plan it starts then, and how it is anchored (null: none). */
  scheduled: { at: Date; credits: number; period: PlanPeriod; anchor: 'keep' | 'restart' } | null;
}

export interface RechargeRow {
  below: number;
  credits: number;
  intervalMinutes: number;
  monthCap: number | null;
  lastAt: Date | null;
  monthUsed: number;
}

/**
 * The runway's reads (docs/credits.md "Runway"). Each reads only rows written before `asOf`, so the
 * same ledger and the same `asOf` give the same answer however much is written afterwards: a lot's
 * credits are the sum of its ledger lines before `asOf`, not its remaining_credits now.
 */
@Injectable()
export class RunwayRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Runs the reads in one read-only snapshot. */
  snapshot<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction('REPEATABLE READ', async (manager) => {
      await manager.query('SET TRANSACTION READ ONLY');
      return work(manager);
    });
  }

  /**
   * Metered usage in [from, to): the lines of records and overruns, what they took of the lots (`debit`,
   * finance's `recognized`) and beyond the balance (`overdraft`: usage when it is used, not when a
   * later grant repays it, so a `repay` is no burn), and the usage corrections' lines (`corrected`),
   * plus each streaming session settled in the window (its hold less what went back); grants,
   * purchases, transfers and expiries are other kinds. A session whose hold all went back used
   * nothing and is no record; a session's overrun lines are the session's one record, as its hold.
   */
  async burn(manager: EntityManager, accountId: string, from: Date, to: Date): Promise<BurnRow> {
    const rows: { burned: string; records: number }[] = await manager.query(
      `SELECT COALESCE(-SUM(u.amount), 0)::bigint::text AS burned, COUNT(DISTINCT u.record)::int AS records
         FROM (SELECT l.amount, COALESCE('session:' || l.session_id, l.usage_record_id::text) AS record
                 FROM credit_ledger l
                WHERE l.account_id = $1 AND l.created_at >= $2 AND l.created_at < $3
                  AND (l.kind = 'overdraft' OR (l.category IN ('recognized', 'corrected') AND l.kind <> 'repay'))
               UNION ALL
               SELECT SUM(l.amount), 'session:' || h.session_id
                 FROM credit_holds h
                 JOIN credit_ledger l ON l.session_id = h.session_id AND l.account_id = h.account_id
                                     AND l.kind IN ('hold', 'release') AND l.created_at < $3
                WHERE h.account_id = $1 AND h.settled_at >= $2 AND h.settled_at < $3
                GROUP BY h.session_id HAVING SUM(l.amount) <> 0) u`,
      [accountId, from, to],
    );
    return { burned: BigInt(rows[0].burned), records: rows[0].records };
  }

  /** The lots with credits at `asOf` that had not expired by then, in no particular order. */
  async lots(manager: EntityManager, accountId: string, asOf: Date): Promise<LotRow[]> {
    const rows: { credits: string; expires_at: Date }[] = await manager.query(
      `SELECT SUM(l.amount)::bigint::text AS credits, a.expires_at
         FROM credit_allocations a
         JOIN credit_ledger l ON l.allocation_id = a.id AND l.created_at < $2
        WHERE a.account_id = $1 AND a.expires_at > $2
        GROUP BY a.id, a.expires_at
       HAVING SUM(l.amount) > 0`,
      [accountId, asOf],
    );
    return rows.map((r) => ({ credits: Number(r.credits), expiresAt: r.expires_at }));
  }

  /** The account's debt at `asOf`: what its overdraft and debt lines owed, less what repay lines paid back. */
  async debt(manager: EntityManager, accountId: string, asOf: Date): Promise<number> {
    const rows: { debt: string }[] = await manager.query(
      `SELECT COALESCE(SUM(CASE WHEN l.kind = 'repay' THEN l.amount ELSE -l.amount END), 0)::bigint::text AS debt
         FROM credit_ledger l
        WHERE l.account_id = $1 AND l.kind IN ('overdraft', 'debt', 'repay') AND l.created_at < $2`,
      [accountId, asOf],
    );
    return Math.max(Number(rows[0].debt), 0);
  }

  /**
   * The account's subscription in force at `asOf` with its active plan (null: none, or a plan that
   * grants nothing), and the change it has scheduled for its period's end, if any.
   */
  async subscription(manager: EntityManager, accountId: string, asOf: Date): Promise<SubscriptionRow | null> {
    const rows: {
      starts_at: Date;
      credits: number;
      period: PlanPeriod;
      scheduled_at: Date | null;
      scheduled_anchor: 'keep' | 'restart' | null;
      scheduled_credits: number | null;
      scheduled_period: PlanPeriod | null;
    }[] = await manager.query(
      `SELECT s.starts_at, p.credits, p.period, s.scheduled_at, s.scheduled_anchor,
              n.credits AS scheduled_credits, n.period AS scheduled_period
         FROM subscriptions s JOIN plans p ON p.id = s.plan_id LEFT JOIN plans n ON n.id = s.scheduled_plan_id
        WHERE s.account_id = $1::bigint
          AND s.created_at < $2 AND (s.ended_at IS NULL OR s.ended_at > $2) AND p.is_active AND p.credits > 0
        ORDER BY s.created_at DESC LIMIT 1`,
      [accountId, asOf],
    );
    const r = rows[0];
    if (!r) return null;
    const scheduled =
      r.scheduled_at !== null &&
      r.scheduled_anchor !== null &&
      r.scheduled_credits !== null &&
      r.scheduled_period !== null
        ? { at: r.scheduled_at, credits: r.scheduled_credits, period: r.scheduled_period, anchor: r.scheduled_anchor }
        : null;
    return { startsAt: r.starts_at, credits: r.credits, period: r.period, scheduled };
  }

  /**
   * Auto-recharge as configured, when enabled (null: off), with the attempts opened before `asOf`
   * that its interval and monthly cap count (those that did not fail, in asOf's UTC month).
   */
  async recharge(manager: EntityManager, accountId: string, asOf: Date): Promise<RechargeRow | null> {
    const rows: {
      below_credits: number;
      recharge_credits: number;
      min_interval_minutes: number;
      max_credits_per_month: number | null;
      last_at: Date | null;
      month_used: string;
    }[] = await manager.query(
      `SELECT s.below_credits, s.recharge_credits, s.min_interval_minutes, s.max_credits_per_month,
              (SELECT max(a.opened_at) FROM auto_recharge_attempts a
                WHERE a.account_id = s.account_id AND a.opened_at < $2) AS last_at,
              (SELECT COALESCE(sum(a.credits), 0)::bigint::text FROM auto_recharge_attempts a
                WHERE a.account_id = s.account_id AND a.opened_at < $2 AND a.status <> 'failed'
                  AND a.opened_at >= date_trunc('month', $2::timestamptz AT TIME ZONE 'UTC') AT TIME ZONE 'UTC') AS month_used
         FROM auto_recharge_settings s
        WHERE s.account_id = $1 AND s.enabled`,
      [accountId, asOf],
    );
    const r = rows[0];
    if (!r) return null;
    return {
      below: r.below_credits,
      credits: r.recharge_credits,
      intervalMinutes: r.min_interval_minutes,
      monthCap: r.max_credits_per_month,
      lastAt: r.last_at,
      monthUsed: Number(r.month_used),
    };
  }
}
