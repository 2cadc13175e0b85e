import type pg from 'pg';

/**
 * How many times this backend has called the SQL function `name` and not yet flushed to the
 * statistics (pg_stat_xact_user_functions; the transaction needs `SET LOCAL track_functions = 'all'`).
 * Earlier transactions' calls on the connection may be in it: compare a difference.
 */
export async function functionCalls(client: pg.ClientBase, name: string): Promise<number> {
  const { rows } = await client.query(
    `SELECT COALESCE(sum(calls), 0)::int AS n FROM pg_stat_xact_user_functions WHERE funcname = $1`,
    [name],
  );
  return rows[0].n as number;
}
