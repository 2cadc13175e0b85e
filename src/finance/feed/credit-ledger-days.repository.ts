import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';

import { type DaysCover, FROZEN_AT, MOVED_AT } from './credit-finance.repository.js';

/** What one step of the fill did: the lines it added, and whether lines are left for another step. */
export interface DaysStep {
  lines: number;
  caughtUp: boolean;
}

/** Lines at most a step adds beyond the last one covered: one short transaction, well inside DB_STATEMENT_TIMEOUT_MS. */
export const DAYS_STEP_LINES = 100_000;

/**
 * The roll-forward's sums by day (docs/finance.md "The sums by day"), brought forward on the primary.
 * The lines a step adds are those outside the cover it had and inside the new one: lines of the ids
 * after the last covered (at most DAYS_STEP_LINES of them), and lines of covered ids whose transaction
 * was still running at the last step (the ledger's BRIN on created_xid finds them), each transaction
 * of them ended before the step began. Each line adds its money and credits to its category's row of
 * the day the roll-forward books it on, and a freeze or unfreeze of a valued lot to the disputed row
 * (category ''), of its created_at's day, as credit_finance.repository.ts reads them.
 */
const ADD_LINES = `
  WITH moved AS (
    SELECT COALESCE(l.currency, '') AS currency, (f.at AT TIME ZONE 'UTC')::date AS day, f.category,
           COALESCE(sum(l.value_minor), 0) AS value_minor, sum(l.amount) AS credits,
           count(*) FILTER (WHERE f.category <> '' OR l.category IS NULL) AS lines
      FROM credit_ledger l
     CROSS JOIN LATERAL (VALUES (l.category, ${MOVED_AT}),
                                (CASE WHEN l.kind IN ('freeze', 'unfreeze') AND l.currency IS NOT NULL THEN '' END,
                                 ${FROZEN_AT})) f(category, at)
     WHERE ((l.id > $2 AND l.id <= $4) OR (l.id <= $2 AND l.created_xid >= $1))
       AND (l.created_xid < $3 OR l.created_xid IS NULL)
       AND f.category IS NOT NULL
     GROUP BY 1, 2, 3),
  added AS (
    INSERT INTO credit_ledger_days AS d (currency, day, category, value_minor, credits)
    SELECT m.currency, m.day, m.category, m.value_minor, m.credits FROM moved m
        ON CONFLICT (currency, day, category)
        DO UPDATE SET value_minor = d.value_minor + excluded.value_minor, credits = d.credits + excluded.credits)
  SELECT COALESCE(sum(m.lines), 0)::int AS lines FROM moved m`;

@Injectable()
export class CreditLedgerDaysRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** When the sums were last brought forward (null: never). */
  async filledAt(): Promise<Date | null> {
    const [row] = await this.dataSource.query<{ filled_at: Date | null }[]>(
      `SELECT filled_at FROM credit_ledger_days_filled WHERE id = 1`,
    );
    return row?.filled_at ?? null;
  }

  /**
   * One step of bringing the sums forward, in a transaction of its own: null when another step holds
   * the row (one fill at a time, the others skip). The new cover's xid is the oldest transaction still
   * running (every one below it has ended, and none can start below it); its id the highest line id
   * seen, at most DAYS_STEP_LINES beyond the last cover. Sums that another server's transaction ids
   * or line ids cannot continue (a copy restored there: its ids start lower) are summed again from
   * the first line.
   */
  step(now: Date): Promise<DaysStep | null> {
    return this.dataSource.transaction(async (m) => {
      const [row] = await m.query<{ xid: string; id: string }[]>(
        `SELECT up_to_xid::text AS xid, up_to_id::text AS id FROM credit_ledger_days_filled WHERE id = 1
            FOR UPDATE SKIP LOCKED`,
      );
      if (!row) return null;
      const [{ xid }] = await m.query<{ xid: string }[]>(`SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS xid`);
      const [{ top }] = await m.query<{ top: string }[]>(`SELECT COALESCE(max(id), 0)::text AS top FROM credit_ledger`);
      const from = BigInt(xid) < BigInt(row.xid) || BigInt(top) < BigInt(row.id) ? await restart(m) : row;
      const to =
        BigInt(top) - BigInt(from.id) > DAYS_STEP_LINES ? String(BigInt(from.id) + BigInt(DAYS_STEP_LINES)) : top;
      const [{ lines }] = await m.query<{ lines: number }[]>(ADD_LINES, [from.xid, from.id, xid, to]);
      await m.query(`UPDATE credit_ledger_days_filled SET up_to_xid = $1, up_to_id = $2, filled_at = $3 WHERE id = 1`, [
        xid,
        to,
        now,
      ]);
      return { lines, caughtUp: to === top };
    });
  }
}

/** The sums emptied, to be summed again from the first line. */
async function restart(m: EntityManager): Promise<DaysCover> {
  await m.query(`DELETE FROM credit_ledger_days`);
  return { xid: '0', id: '0' };
}
