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
