import type { DataSource } from 'typeorm';

/**
 * Reads that may lag the primary by the replication delay (statistics, record lists, CSV exports)
 * run here: on the DB_READ_URL replica when one is configured, else on the primary. Anything that
 * must see the caller's own writes (balances, ledger, sessions, keys, idempotency) never does.
 */
export async function queryReplica<T = unknown>(dataSource: DataSource, sql: string, params?: unknown[]): Promise<T> {
  const runner = dataSource.createQueryRunner('slave');
  try {
    return (await runner.query(sql, params)) as T;
  } finally {
    await runner.release();
  }
}
