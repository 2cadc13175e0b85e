import { Logger } from '@nestjs/common';
import pg from 'pg';
import { DataSource } from 'typeorm';

import type { DatabaseConfig } from '../config/app-config.js';
import { buildDataSourceOptions } from './data-source-options.js';

/** The session advisory lock every instance's start-up migrations run under. */
const MIGRATION_LOCK = `hashtext('accounting-service:migrations')`;

/**
 * Runs the pending migrations through `url` under one advisory lock (docs/operations.md "Two database roles"):
 * instances started together on an empty database take turns, so one runs them and the others, once
 * it is done, find none pending. The lock is a session lock on a connection of its own, held while the
 * migrations run in their own transactions (one each, as the CLI runs them); it is released when that
 * connection ends, whatever happened. Answers how many migrations ran.
 */
export async function migrateUnderLock(database: DatabaseConfig & { url: string }): Promise<number> {
  const lock = new pg.Client({ connectionString: database.url });
  await lock.connect();
  // A connection dropped while waiting would otherwise throw from the client's event emitter.
  lock.on('error', () => undefined);
  try {
    await lock.query(`SELECT pg_advisory_lock(${MIGRATION_LOCK})`);
    const source = new DataSource({
      ...buildDataSourceOptions({ ...database, readUrl: null, poolSize: 1 }),
      migrationsRun: false,
    });
    await source.initialize();
    try {
      const applied = await source.runMigrations({ transaction: 'each' });
      if (applied.length > 0) new Logger('Database').log({ msg: 'migrations applied', count: applied.length });
      return applied.length;
    } finally {
      await source.destroy();
    }
  } finally {
    await lock.end().catch(() => undefined);
  }
}
