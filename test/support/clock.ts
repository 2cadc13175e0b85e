import type pg from 'pg';

import { CLOCK, type Clock } from '../../src/common/clock.js';
import type { TestApp } from './app.js';

/**
 * Time-based behaviour is tested by setting the rows or the app's clock, never by waiting for the
 * wall clock: these make an allocation or a session due right now, as if its time had passed.
 */
export async function expireAllocationNow(db: pg.Pool, allocationId: string): Promise<void> {
  await db.query(`UPDATE credit_allocations SET expires_at = now() WHERE id = $1`, [allocationId]);
}

export async function expireSessionNow(db: pg.Pool, sessionId: string): Promise<void> {
  // As if it had started one TTL ago: the same TTL, ending now.
  await db.query(
    `UPDATE streaming_sessions SET started_at = now() - (expires_at - started_at), expires_at = now()
      WHERE session_id = $1`,
    [sessionId],
  );
}

/**
 * As if `ms` milliseconds had passed for the user's (or the org's) plans and credits: their subscriptions and
 * allocations move back in time by that much (the renewal and expiry jobs then see them as due).
 */
export async function passTime(db: pg.Pool, owner: string | { orgId: string }, ms: number): Promise<void> {
  const by = `${ms} milliseconds`;
  // A user by id, or an organisation: the same move for the account that holds the subscription.
  const [column, userId] = typeof owner === 'string' ? ['user_id', owner] : ['org_id', owner.orgId];
  // One transaction that the jobs see whole or not at all: a renewal run between a moved subscription
  // and its allocations would grant the new period, and then see its grant moved back a day too.
  // A plan's periods are unique per (subscription, period start, source), and the index is checked
  // row by row: moving period 2 onto period 1's start while period 1 still waits its turn in the same
  // UPDATE collides, depending on the rows' order on disk. So the starts go by way of a range no
  // period uses (a thousand years back).
  const client = await db.connect();
  try {
    await client.query('BEGIN');
    await client.query(
      `UPDATE subscriptions SET starts_at = starts_at - $2::interval, next_grant_at = next_grant_at - $2::interval,
              created_at = created_at - $2::interval, scheduled_at = scheduled_at - $2::interval
        WHERE ${column} = $1`,
      [userId, by],
    );
    await client.query(
      `UPDATE credit_allocations SET expires_at = expires_at - $2::interval, allocated_at = allocated_at - $2::interval,
              period_start = period_start - $2::interval - interval '1000 years'
        WHERE account_id = (SELECT account_id FROM accounts WHERE ${column} = $1)`,
      [userId, by],
    );
    await client.query(
      `UPDATE credit_allocations SET period_start = period_start + interval '1000 years'
        WHERE account_id = (SELECT account_id FROM accounts WHERE ${column} = $1) AND period_start IS NOT NULL`,
      [userId],
    );
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

/**
 * Stops the app's injected `Clock` (src/common/clock.ts) at the current time; `advance` moves it on.
 * Only this app's clock: other apps of the same spec keep the wall clock.
 */
export function freezeClock(t: Pick<TestApp, 'app'>): { advance(ms: number): void } {
  const clock = t.app.get<Clock>(CLOCK);
  let now = clock.now();
  clock.now = () => now;
  return {
    advance(ms: number) {
      now += ms;
    },
  };
}
