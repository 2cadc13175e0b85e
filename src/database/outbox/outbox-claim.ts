/**
 * The statements every outbox table shares (`webhook_deliveries`, `email_notifications`: an `id`, a
 * `status` that is `pending` until the row is done, `attempts`, `next_attempt_at` with a partial
 * index on the pending rows). The tables stay their owners'; each owner's repository sends these with
 * its own table, columns and reads.
 */

/**
 * CTEs `due` and `claimed`: up to `$2` rows due at `$1`, claimed for one attempt each. SKIP LOCKED so
 * instances never take the same row; the attempt counted, and the due time pushed `$3` milliseconds
 * ahead (a lease) so no one else takes the row while the attempt runs, nor after a crash until the
 * lease ends. `set` adds the table's own columns (their expressions see the row as it was);
 * `returning` names what `claimed` returns, on the alias `o`. One statement, its own transaction.
 */
export function claimDueCtes(table: string, returning: string, set: readonly string[] = []): string {
  const assignments = [
    'attempts = o.attempts + 1',
    `next_attempt_at = $1::timestamptz + $3 * interval '1 millisecond'`,
    ...set,
  ];
  return `WITH due AS (
         SELECT id FROM ${table}
          WHERE status = 'pending' AND next_attempt_at <= $1
          ORDER BY next_attempt_at
          LIMIT $2
          FOR UPDATE SKIP LOCKED
       ), claimed AS (
         UPDATE ${table} o
            SET ${assignments.join(', ')}
           FROM due WHERE o.id = due.id
         RETURNING ${returning}
       )`;
}

/**
 * The condition of an outcome's write: the row is still this claim's (`$1` its id, `$2` the attempt
 * the claim counted, still pending). A stale claim (its lease ended, another instance claimed the row
 * again) writes nothing.
 */
export const CLAIM_STILL_OWN = `id = $1 AND attempts = $2 AND status = 'pending'`;
