import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import pg from 'pg';
import type { TestProject } from 'vitest/node';

import { createScratchDatabase } from '../../src/database/server/scratch-database.js';
import { serviceRoleGrants } from '../../src/database/service-role.js';
import { noCommitFlush } from './commit-flush.js';
import { prefixTemplatesOf } from './database-names.js';
import { REFUSED_SERVICE } from './refused-records.js';
import { until } from './until.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The run's database as its owner (migrations, fixtures, direct SQL of the specs). */
    databaseUrl: string;
    /** The same database as the service's own role, which owns nothing (what the apps connect as). */
    serviceDatabaseUrl: string;
    adminDatabaseUrl: string;
    /** The run's folder for the one compiled server the process specs copy (build-server.ts). */
    serverBuilds: string;
    /**
     * A migrated database nothing connects to, for specs that need a database of their own: they
     * copy it (own-database.ts), which takes well under a second; migrating takes seconds.
     */
    migratedTemplate: string;
  }
}

interface TestDatabase {
  databaseUrl: string;
  migratedTemplate: string;
  serviceDatabaseUrl: string;
  serverUrl: string;
  teardown: () => Promise<void>;
}

/**
 * The e2e and int projects share one database: the first project's setup creates it, the last
 * one's teardown drops it. Global setups of all projects run in this one process, so the shared
 * handle lives on globalThis (each project loads this file as a module of its own).
 */
const shared = globalThis as {
  accountingTestDatabase?: { users: number; ready: Promise<TestDatabase>; serverBuilds: string };
};

export default async function setup(project: TestProject) {
  const entry = (shared.accountingTestDatabase ??= {
    users: 0,
    ready: createTestDatabase(),
    serverBuilds: mkdtempSync(join(tmpdir(), 'accounting-server-build-')),
  });
  entry.users++;
  const { databaseUrl, serviceDatabaseUrl, serverUrl, migratedTemplate, teardown } = await entry.ready;
  project.provide('databaseUrl', databaseUrl);
  project.provide('migratedTemplate', migratedTemplate);
  project.provide('serviceDatabaseUrl', serviceDatabaseUrl);
  project.provide('adminDatabaseUrl', serverUrl);
  project.provide('serverBuilds', entry.serverBuilds);
  return async () => {
    if (--entry.users > 0) return;
    delete shared.accountingTestDatabase;
    rmSync(entry.serverBuilds, { recursive: true, force: true });
    await teardown();
  };
}

/**
 * One fresh database per test run: on TEST_DATABASE_URL's server when set, else on an embedded
 * PostgreSQL in a temporary directory. The real migrations run on it; it is dropped afterwards.
 * As in production (docs/operations.md, "Two database roles"), the apps connect as a role of the
 * run's own that owns nothing and holds only the service's grants.
 */
async function createTestDatabase(): Promise<TestDatabase> {
  const scratch = await createScratchDatabase({ serverUrl: process.env.TEST_DATABASE_URL, prefix: 'accounting_test' });
  const migratedTemplate = await copyAsTemplate(scratch);
  await withClient(scratch.serverUrl, (client) =>
    client.query(noCommitFlush(new URL(scratch.databaseUrl).pathname.slice(1))),
  );
  const role = `accounting_test_service_${randomBytes(4).toString('hex')}`;
  const password = randomBytes(12).toString('hex');
  await withClient(scratch.databaseUrl, async (client) => {
    await client.query(`CREATE ROLE ${role} LOGIN PASSWORD '${password}'`);
    // The test-only marker route's table (test/support/test-only.controller.ts): made by the owner,
    // since the service's role may create no table.
    await client.query(`CREATE TABLE test_markers (user_id text, at timestamptz DEFAULT now())`);
    // The database's refusal of one record (test/support/refused-records.ts): a usage record whose
    // service starts with REFUSED_SERVICE fails its statement. Made once, here, not by the specs: a
    // spec that created and dropped a trigger on usage_records while others ran took the table's
    // exclusive lock in the middle of their statements (a deadlock could pick one of them).
    await client.query(`CREATE SCHEMA test_support`);
    await client.query(`CREATE FUNCTION test_support.refuse_record() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'faulty record'; END $$`);
    await client.query(`CREATE TRIGGER test_support_refuse_record BEFORE INSERT ON usage_records FOR EACH ROW
      WHEN (NEW.service LIKE '${REFUSED_SERVICE}%') EXECUTE FUNCTION test_support.refuse_record()`);
    await client.query(`GRANT USAGE ON SCHEMA test_support TO ${role}`);
    for (const statement of serviceRoleGrants(role)) await client.query(statement);
  });
  const service = new URL(scratch.databaseUrl);
  service.username = role;
  service.password = password;
  return {
    databaseUrl: scratch.databaseUrl,
    serviceDatabaseUrl: service.toString(),
    serverUrl: scratch.serverUrl,
    migratedTemplate,
    teardown: async () => {
      await withClient(scratch.serverUrl, async (client) => {
        await client.query(`DROP DATABASE IF EXISTS ${migratedTemplate}`);
        // The databases of the first k migrations the migration specs copied (migration-database.ts).
        const prefixes = await client.query<{ datname: string }>(
          `SELECT datname FROM pg_database WHERE starts_with(datname, $1)`,
          [prefixTemplatesOf(new URL(scratch.databaseUrl).pathname.slice(1))],
        );
        for (const { datname } of prefixes.rows) await client.query(`DROP DATABASE IF EXISTS ${datname} WITH (FORCE)`);
      });
      await scratch.drop();
      // The role's privileges went with the database; the server is gone when it was embedded.
      if (process.env.TEST_DATABASE_URL) {
        await withClient(scratch.serverUrl, (client) => client.query(`DROP ROLE IF EXISTS ${role}`));
      }
    },
  };
}

/**
 * A copy of the just-migrated run database, before anything else is added to it, that refuses
 * connections: CREATE DATABASE … TEMPLATE needs a source nobody is connected to, and nothing (an
 * autovacuum worker aside, which PostgreSQL stops) can connect to this one.
 */
async function copyAsTemplate(scratch: { databaseUrl: string; serverUrl: string }): Promise<string> {
  const source = new URL(scratch.databaseUrl).pathname.slice(1);
  const template = `${source}_template`;
  await withClient(scratch.serverUrl, async (client) => {
    // The migrations' connections may still be closing (a pool's end() answers first). An autovacuum
    // worker on it is not waited for: CREATE DATABASE stops it itself.
    await until(
      `the migrations' sessions on ${source} have closed`,
      async () =>
        (
          await client.query(
            `SELECT 1 FROM pg_stat_activity WHERE datname = $1 AND backend_type IS DISTINCT FROM 'autovacuum worker'`,
            [source],
          )
        ).rowCount === 0,
      10_000,
      50,
    );
    await client.query(`CREATE DATABASE ${template} TEMPLATE ${source}`);
    await client.query(`ALTER DATABASE ${template} WITH ALLOW_CONNECTIONS false`);
  });
  return template;
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
