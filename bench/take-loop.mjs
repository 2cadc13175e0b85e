#!/usr/bin/env node
// node bench/take-loop.mjs [undo] [calls] [rounds] (after `nest build`): the PostgreSQL backend's CPU
// time per self-committing take of one credit (`credits_take_events(…)` with one event, docs/money.md
// "The take"; `credits_take(…)` on a database from before the one take), on a scratch
// database migrated to the end, and, with `undo` = N > 0, on a second one with its last N migrations
// undone (the engine before them), alternated A B A B. Needs TEST_DATABASE_URL's server.
import { backendCpu, engineScratch, withScratches } from './engine-scratch.mjs';

const [undo = '0', calls = '3000', rounds = '3'] = process.argv.slice(2);

async function prepared(undoCount) {
  const { scratch, client, pid, byId, label } = await engineScratch('take_loop', undoCount);
  await client.query(`INSERT INTO user_accounts (user_id) VALUES ('bench')`);
  const [{ single }] = (await client.query(`SELECT to_regproc('credits_take') IS NOT NULL AS single`)).rows;
  // The engine takes account ids from migration 1732000065000 on, owner ids before.
  const account = byId ? `(SELECT account_id FROM accounts WHERE user_id = 'bench')` : `'bench'`;
  await client.query(
    `SELECT 1 FROM credits_grant(${account}, 1000000, 'bench', now() + interval '1 day', NULL, 'manual', NULL, NULL, NULL, false)`,
  );
  // The take the schema has: the single take before the one take (migration 1732000051990) dropped it.
  // The account id is looked up once here: the loop times the take alone.
  const accountId = byId ? (await client.query(`SELECT ${account}::text AS id`)).rows[0].id : null;
  const take = single
    ? `SELECT * FROM credits_take('bench', 1, 'debit', 'strict', NULL, NULL, 'bench', NULL, NULL, '{}')`
    : byId
      ? `SELECT * FROM credits_take_events('bench', NULL, NULL, '{}', ARRAY[${accountId}]::bigint[], ARRAY[1], ARRAY[NULL::uuid])`
      : `SELECT * FROM credits_take_events('bench', NULL, NULL, '{}', ARRAY['bench']::varchar[], ARRAY[1], ARRAY[NULL::uuid])`;
  return { scratch, client, pid, take, label };
}

async function loop(db) {
  const sql = db.take;
  for (let i = 0; i < 200; i++) await db.client.query(sql);
  const before = backendCpu(db.pid);
  for (let i = 0; i < Number(calls); i++) await db.client.query(sql);
  return ((backendCpu(db.pid) - before) / Number(calls)) * 1e6;
}

await withScratches(prepared, undo, async (dbs) => {
  for (let r = 0; r < Number(rounds); r++) {
    const line = [];
    for (const db of [...dbs].reverse()) line.push(`${db.label}: ${(await loop(db)).toFixed(0)} µs`);
    console.log(line.join('  '));
  }
});
