import type { QueryRunner } from 'typeorm';

/**
 * Whether the migration stamped `timestamp` runs in stamp order: no migration stamped after it has
 * run on this database. A migration merged after later-stamped ones had landed runs last on a
 * database that already has them, and first among them on a database migrated from scratch; one
 * that mends what the order of a fresh migration breaks acts only in the second case.
 */
export async function ranInOrder(q: QueryRunner, timestamp: number): Promise<boolean> {
  const [{ later }] = (await q.query('SELECT count(*)::int AS later FROM migrations WHERE "timestamp" > $1', [
    timestamp,
  ])) as { later: number }[];
  return later === 0;
}
