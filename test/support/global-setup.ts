import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import pg from 'pg';
import { DataSource } from 'typeorm';
import type { TestProject } from 'vitest/node';

import { buildAppConfig } from '../../src/config/app-config.js';
import { buildDataSourceOptions } from '../../src/database/data-source-options.js';
import { type EmbeddedDatabase, startEmbeddedPostgres } from '../../src/database/embedded-postgres.js';

declare module 'vitest' {
  export interface ProvidedContext {
    databaseUrl: string;
    adminDatabaseUrl: string;
  }
}

interface TestDatabase {
  databaseUrl: string;
  serverUrl: string;
  teardown: () => Promise<void>;
}

/**
 * The e2e and int projects share one database: the first project's setup creates it, the last
 * one's teardown drops it. Global setups of all projects run in this one process, so the shared
 * handle lives on globalThis (each project loads this file as a module of its own).
 */
const shared = globalThis as { accountingTestDatabase?: { users: number; ready: Promise<TestDatabase> } };

export default async function setup(project: TestProject) {
  const entry = (shared.accountingTestDatabase ??= { users: 0, ready: createTestDatabase() });
  entry.users++;
  const { databaseUrl, serverUrl, teardown } = await entry.ready;
  project.provide('databaseUrl', databaseUrl);
  project.provide('adminDatabaseUrl', serverUrl);
  return async () => {
    if (--entry.users > 0) return;
    delete shared.accountingTestDatabase;
    await teardown();
  };
}

/**
 * One fresh database per test run: on TEST_DATABASE_URL's server when set, else on an embedded
 * PostgreSQL in a temporary directory. The real migrations run on it; it is dropped afterwards.
 */
async function createTestDatabase(): Promise<TestDatabase> {
  let embedded: EmbeddedDatabase | undefined;
  let tempDir: string | undefined;
  let serverUrl = process.env.TEST_DATABASE_URL;
  if (!serverUrl) {
    tempDir = await mkdtemp(path.join(tmpdir(), 'accounting-test-'));
    await chmod(tempDir, 0o755); // the server runs as the postgres user
    embedded = await startEmbeddedPostgres({
      dataDir: path.join(tempDir, 'pg'),
      database: 'postgres',
      persistent: false,
      log: () => undefined,
    });
    serverUrl = embedded.url;
  }
  const name = `accounting_test_${Date.now()}_${randomBytes(3).toString('hex')}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();

  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const databaseUrl = url.toString();

  const teardown = async () => {
    const client = new pg.Client({ connectionString: serverUrl });
    await client.connect();
    await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await client.end();
    await embedded?.stop();
    if (tempDir) await rm(tempDir, { recursive: true, force: true });
  };

  const config = buildAppConfig({ DATABASE_URL: databaseUrl });
  const dataSource = new DataSource({
    ...buildDataSourceOptions({ ...config.database, url: databaseUrl }),
    migrationsRun: false,
  });
  try {
    await dataSource.initialize();
    await dataSource.runMigrations({ transaction: 'each' });
  } catch (error) {
    // A broken migration must fail the run cleanly, not leave a database and a process behind.
    if (dataSource.isInitialized) await dataSource.destroy().catch(() => undefined);
    await teardown().catch(() => undefined);
    throw error;
  }
  await dataSource.destroy();

  return { databaseUrl, serverUrl, teardown };
}
