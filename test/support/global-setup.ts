import type { TestProject } from 'vitest/node';

import { createScratchDatabase } from '../../src/database/scratch-database.js';

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
  const scratch = await createScratchDatabase({ serverUrl: process.env.TEST_DATABASE_URL, prefix: 'accounting_test' });
  return { databaseUrl: scratch.databaseUrl, serverUrl: scratch.serverUrl, teardown: scratch.drop };
}
