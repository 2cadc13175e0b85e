import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import pg from 'pg';
import { DataSource } from 'typeorm';

import { buildDatabaseConfig } from '../../config/app-config.js';
import { buildDataSourceOptions } from '../data-source-options.js';
import { type EmbeddedDatabase, startEmbeddedPostgres } from './embedded-postgres.js';

export interface ScratchDatabase {
  /** The new, migrated database. */
  databaseUrl: string;
  /** Its server's maintenance database (for CREATE/DROP DATABASE). */
  serverUrl: string;
  /** Drops the database and stops the embedded server when one was started for it. */
  drop(): Promise<void>;
}

/**
 * A fresh database with every migration applied: on `serverUrl` when given, else on an embedded
 * PostgreSQL in a temporary directory. The test run and `npm run migration:functions` both start
 * from one, so they see exactly what the migrations produce.
 */
export async function createScratchDatabase(
  options: { serverUrl?: string; prefix?: string } = {},
): Promise<ScratchDatabase> {
  let embedded: EmbeddedDatabase | undefined;
  let tempDir: string | undefined;
  let serverUrl = options.serverUrl;
  if (!serverUrl) {
    tempDir = await mkdtemp(path.join(tmpdir(), 'accounting-scratch-'));
    await chmod(tempDir, 0o755); // the server runs as the postgres user
    embedded = await startEmbeddedPostgres({
      dataDir: path.join(tempDir, 'pg'),
      database: 'postgres',
      persistent: false,
      log: () => undefined,
    });
    serverUrl = embedded.url;
  }
  const name = `${options.prefix ?? 'accounting_scratch'}_${Date.now()}_${randomBytes(3).toString('hex')}`;
  await withClient(serverUrl, (c) => c.query(`CREATE DATABASE ${name}`));

  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const databaseUrl = url.toString();
  const server = serverUrl;
  const drop = async () => {
    await withClient(server, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    await embedded?.stop();
    if (tempDir) await rm(tempDir, { recursive: true, force: true });
  };

  const dataSource = new DataSource({
    ...buildDataSourceOptions({ ...buildDatabaseConfig({ DATABASE_URL: databaseUrl }), url: databaseUrl }),
    migrationsRun: false,
  });
  try {
    await dataSource.initialize();
    await dataSource.runMigrations({ transaction: 'each' });
  } catch (error) {
    // A broken migration must fail cleanly, not leave a database and a process behind.
    if (dataSource.isInitialized) await dataSource.destroy().catch(() => undefined);
    await drop().catch(() => undefined);
    throw error;
  }
  await dataSource.destroy();
  return { databaseUrl, serverUrl, drop };
}

async function withClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}
