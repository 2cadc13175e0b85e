// The scratch databases of the engine loops (bench/engine-loop.mjs, take-loop.mjs, batch-loop.mjs,
// finance-batch-loop.mjs): migrated to the end, or with their last N migrations undone (the engine
// before them), and the backend CPU time of a connection to one, read from /proc (the server must run
// on this machine).
import { readFileSync } from 'node:fs';

import pg from 'pg';
import { DataSource } from 'typeorm';

import { buildDatabaseConfig } from '../dist/src/config/app-config.js';
import { buildDataSourceOptions } from '../dist/src/database/data-source-options.js';
import { createScratchDatabase } from '../dist/src/database/server/scratch-database.js';
import { seedUsers } from './lib.mjs';
import { processCpuSeconds } from './measure.mjs';

/**
 * A scratch database on TEST_DATABASE_URL's server with its last `undoCount` migrations undone, one
 * connection to it, its backend's pid, and whether its engine takes account ids (`byId`: from the
 * merge of the one account id on; owner ids before). `undoCount` may instead be `{ edited: files }`:
 * migrated to the end, then those SQL files run (an edited function, timed before its migration is
 * made).
 */
export async function engineScratch(prefix, undoCount) {
  const scratch = await createScratchDatabase({ serverUrl: process.env.TEST_DATABASE_URL, prefix });
  const edited = typeof undoCount === 'object' ? undoCount.edited : null;
  if (edited) {
    const client = new pg.Client({ connectionString: scratch.databaseUrl });
    await client.connect();
    for (const file of edited) await client.query(readFileSync(file, 'utf8'));
    await client.end();
  } else if (undoCount > 0) {
    const ds = new DataSource({
      ...buildDataSourceOptions({
        ...buildDatabaseConfig({ DATABASE_URL: scratch.databaseUrl }),
        url: scratch.databaseUrl,
      }),
      migrationsRun: false,
    });
    await ds.initialize();
    for (let i = 0; i < undoCount; i++) await ds.undoLastMigration({ transaction: 'each' });
    await ds.destroy();
  }
  const client = new pg.Client({ connectionString: scratch.databaseUrl });
  await client.connect();
  const [{ pid, byId }] = (
    await client.query(
      `SELECT pg_backend_pid() AS pid,
              EXISTS (SELECT 1 FROM pg_proc WHERE proname = 'credits_grant' AND 'p_account_id' = ANY (proargnames)) AS "byId"`,
    )
  ).rows;
  const label = edited ? 'edited' : undoCount > 0 ? `undo ${undoCount}` : 'head';
  return { scratch, client, pid, byId, label };
}

/**
 * An engineScratch() with `users` bench users of `credits` each, analyzed, commits not waited for,
 * function timing on unless `trackFunctions` is false, and `ids`: each bench user's account id.
 */
export async function seededScratch(prefix, undoCount, { users, credits, trackFunctions = true }) {
  const db = await engineScratch(prefix, undoCount);
  await seedUsers(db.client, users, credits);
  await db.client.query('ANALYZE');
  await db.client.query('SET synchronous_commit = off');
  if (trackFunctions) await db.client.query(`SET track_functions = 'all'`);
  const ids = new Map(
    (await db.client.query(`SELECT user_id, account_id::text AS id FROM accounts WHERE user_id IS NOT NULL`)).rows.map(
      (r) => [r.user_id, r.id],
    ),
  );
  return { ...db, ids };
}

/**
 * `work(dbs)` on the head's scratch database made by `prepare(0)` and, when `undo` > 0, a second one
 * made by `prepare(undo)` (the head's first); with ENGINE_EDITED=<file.sql,…>, one more made by
 * `prepare({ edited })`: the head with those files run (src/<module>/sql/ files as edited, say). All
 * closed and dropped afterwards, whatever happens.
 */
export async function withScratches(prepare, undo, work) {
  const dbs = [await prepare(0)];
  try {
    if (Number(undo) > 0) dbs.push(await prepare(Number(undo)));
    if (process.env.ENGINE_EDITED) dbs.push(await prepare({ edited: process.env.ENGINE_EDITED.split(',') }));
    await work(dbs);
  } finally {
    for (const db of dbs) {
      await db.client.end();
      await db.scratch.drop();
    }
  }
}

/** Seconds of CPU (user + system) the backend `pid` has used. */
export const backendCpu = processCpuSeconds;
