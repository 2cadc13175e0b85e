import { randomBytes } from 'node:crypto';

import pg from 'pg';
import { DataSource } from 'typeorm';
import { inject } from 'vitest';

import { buildDatabaseConfig } from '../../src/config/app-config.js';
import { buildDataSourceOptions } from '../../src/database/data-source-options.js';
import { serviceRoleGrants } from '../../src/database/service-role.js';
import { noCommitFlush } from './commit-flush.js';

/** One statement on the test server's admin connection; answers its rows. */
async function admin(sql: string, params: unknown[] = []): Promise<{ n?: number }[]> {
  const client = new pg.Client({ connectionString: inject('adminDatabaseUrl') });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows;
  } finally {
    await client.end();
  }
}

/**
 * Drops a spec's database once its sessions have closed. A pool's end() answers before its clients'
 * sockets have closed; DROP … WITH (FORCE) would terminate them, and a client already out of its
 * pool has no listener for that error (an uncaught 57P01). So wait (up to 5 s) until the database has
 * no sessions left, then drop (forcing only a straggler).
 */
export async function dropDatabase(name: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const [{ n }] = await admin(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1`, [name]);
    if (n === 0) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
}

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
  /** As its owner (migrations, fixtures, direct SQL). */
  url: string;
  /**
   * As the run's service role, which owns nothing and holds the service's grants on this copy too
   * (global-setup.ts): what an app serving it connects as, as in production.
   */
  serviceUrl: string;
  db: pg.Pool;
  drop(): Promise<void>;
}

/**
 * A migrated database of the spec file's own. Delivery workers claim every due delivery in their
 * database, so specs that run them (or move their clock days ahead) must not share one with the
 * spec files running beside them. A copy of the run's migrated template (global-setup.ts), which is
 * what the migrations make, in a fraction of the time; migrated here when there is none.
 */
export async function ownDatabase(suffix: string): Promise<OwnDatabase> {
  const base = new URL(inject('databaseUrl'));
  const name = `${base.pathname.slice(1)}_${suffix}_${randomBytes(3).toString('hex')}`;
  const template = inject('migratedTemplate');
  await admin(template ? `CREATE DATABASE ${name} TEMPLATE ${template}` : `CREATE DATABASE ${name}`);
  await admin(noCommitFlush(name));
  const url = new URL(base);
  url.pathname = `/${name}`;
  if (!template) await migrate(url.toString());
  const db = new pg.Pool({ connectionString: url.toString(), max: 4 });
  // DROP … WITH (FORCE) may reach a connection still closing: its error then is no test's failure.
  db.on('error', () => undefined);
  const service = new URL(inject('serviceDatabaseUrl'));
  for (const statement of serviceRoleGrants(decodeURIComponent(service.username))) await db.query(statement);
  service.pathname = `/${name}`;
  return {
    url: url.toString(),
    serviceUrl: service.toString(),
    db,
    drop: async () => {
      await db.end();
      await dropDatabase(name);
    },
  };
}
