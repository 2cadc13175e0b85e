import type pg from 'pg';

/**
 * Time-based behaviour is tested by setting the rows, never by waiting for the wall clock: these
 * make an allocation or a session due right now, as if its time had passed.
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
