import { randomBytes } from 'node:crypto';

import pg from 'pg';
import { DataSource } from 'typeorm';
import { inject } from 'vitest';

import { buildDatabaseConfig } from '../../src/config/app-config.js';
import { buildDataSourceOptions } from '../../src/database/data-source-options.js';

/** Runs every migration on the database at `url`, each in its own transaction as the CLI does. */
export async function migrate(url: string): Promise<void> {
  const dataSource = new DataSource({
    ...buildDataSourceOptions({ ...buildDatabaseConfig({ DATABASE_URL: url }), url }),
    migrationsRun: false,
  });
  await dataSource.initialize();
  try {
    await dataSource.runMigrations({ transaction: 'each' });
  } finally {
    await dataSource.destroy();
  }
}

export interface OwnDatabase {
  url: string;
  db: pg.Pool;
  drop(): Promise<void>;
}

/**
 * A migrated database of the spec file's own. Delivery workers claim every due delivery in their
 * database, so specs that run them (or move their clock days ahead) must not share one with the
 * spec files running beside them.
 */
export async function ownDatabase(suffix: string): Promise<OwnDatabase> {
  const base = new URL(inject('databaseUrl'));
  const name = `${base.pathname.slice(1)}_${suffix}_${randomBytes(3).toString('hex')}`;
  const admin = async (sql: string) => {
    const client = new pg.Client({ connectionString: inject('adminDatabaseUrl') });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await admin(`CREATE DATABASE ${name}`);
  const url = new URL(base);
  url.pathname = `/${name}`;
  await migrate(url.toString());
  const db = new pg.Pool({ connectionString: url.toString(), max: 4 });
  // DROP … WITH (FORCE) may reach a connection still closing: its error then is no test's failure.
  db.on('error', () => undefined);
  return {
    url: url.toString(),
    db,
    drop: async () => {
      await db.end();
      await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}
