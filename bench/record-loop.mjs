#!/usr/bin/env node
// node bench/record-loop.mjs <before.sql> [undo] [calls] [rounds] (after `nest build`): the record
// route's statement (queries/usage/record.sql, one record of one credit without an eventId, on a
// random user's account) sent self-committing on one connection, on a scratch database migrated to
// the end and, with `undo` = N > 0, on a second one with its last N migrations undone running the
// statement text in <before.sql> (the statement as sent before them: `git show <commit>:queries/usage/record.sql`),
// alternated A B A B. Per record: the backend's CPU (read from /proc: TEST_DATABASE_URL's server must
// run on this machine) and each SQL function's own time (track_functions = 'all' on that connection
// only), so a stage's cost is seen in the statement as the route sends it (docs/benchmarks.md "The
// record stage by stage"). On a server with pg_stat_statements loaded (`shared_preload_libraries`,
// `pg_stat_statements.track = all`), also each statement's time a record, nested ones too.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';

import pg from 'pg';

import { backendCpu, seededScratch, withScratches } from './engine-scratch.mjs';

const [beforeFile, undo = '0', calls = '2000', rounds = '3'] = process.argv.slice(2);
if (!beforeFile)
  throw new Error('Give the statement text before the change: node bench/record-loop.mjs <before.sql> …');
const USERS = 1000;
const statementOf = (file) =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => !line.startsWith('--'))
    .join('\n');
const HEAD = statementOf(new URL('../queries/usage/record.sql', import.meta.url));
const BEFORE = statementOf(beforeFile);
// the hourly limit every account has unless set its own (SPEND_RATE_LIMIT_PER_HOUR; `none`: the
// service's default, no limit, so no spend window is written)
const RATE = process.env.RECORD_LOOP_RATE === 'none' ? null : Number(process.env.RECORD_LOOP_RATE ?? 1000);
const user = (i) => `bench-${((i * 7919) % USERS) + 1}`;

async function prepared(undoCount) {
  const db = await seededScratch('record_loop', undoCount, { users: USERS, credits: 1_000_000_000 });
  return { ...db, text: undoCount === 0 ? HEAD : BEFORE };
}

function record(db, i) {
  const event = { id: randomUUID(), user_id: user(i), service: 'bench', operation: 'chat', credits: 1 };
  // as the route sends it for a user's JWT: the owner, the events, no key, the hourly limit, the thresholds, the
  // accounts and the writers
  const values = [user(i), JSON.stringify([event]), null, RATE, '{1000,10,0}', [db.ids.get(user(i))], [user(i)]];
  // a statement that gives the take its arrays ($8 to $12): the amounts, records, members, volumes, scopes
  if (db.text.includes('$8::int[]')) values.push([1], [event.id], [null], null, null);
  return { name: 'record', text: db.text, values };
}

/** Each function's own time so far in this database, ms (flushed first: the counters are per backend until then). */
async function ownTimes(db) {
  await db.client.query('SELECT pg_stat_force_next_flush()');
  await db.client.query('SELECT 1');
  await db.client.query('SELECT pg_stat_clear_snapshot()');
  const { rows } = await db.client.query(`SELECT funcname, self_time, calls FROM pg_stat_user_functions`);
  return new Map(rows.map((r) => [r.funcname, { self: Number(r.self_time), calls: Number(r.calls) }]));
}

/**
 * Each statement's time so far in this database (µs, by its text), when the server has
 * pg_stat_statements loaded: read from the server's first database, where the view is created.
 */
let statsClient;
async function statementTimes(db) {
  if (statsClient === undefined) {
    const { rows } = await db.client.query(`SELECT current_setting('shared_preload_libraries') AS libs`);
    statsClient = null;
    if (!rows[0].libs.includes('pg_stat_statements')) return new Map();
    statsClient = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });
    await statsClient.connect();
    await statsClient.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
  }
  if (!statsClient) return new Map();
  const { rows } = await statsClient.query(
    `SELECT s.query, sum(s.total_exec_time + s.total_plan_time) * 1000 AS us, sum(s.total_plan_time) * 1000 AS plan
       FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
      WHERE d.datname = $1 GROUP BY s.query`,
    [new URL(db.scratch.databaseUrl).pathname.slice(1)],
  );
  return new Map(rows.map((r) => [r.query, { us: Number(r.us), plan: Number(r.plan) }]));
}

const oneLine = (text) => text.replace(/\s+/g, ' ').slice(0, 110);

await withScratches(prepared, undo, async (dbs) => {
  for (let r = 0; r < Number(rounds); r++) {
    for (const db of r % 2 === 0 ? dbs : [...dbs].reverse()) {
      await db.client.query('ANALYZE');
      for (let i = 0; i < 200; i++) await db.client.query(record(db, i));
      const fnBefore = await ownTimes(db);
      const stBefore = await statementTimes(db);
      const cpu = backendCpu(db.pid);
      for (let i = 0; i < Number(calls); i++) await db.client.query(record(db, i));
      const perRecord = ((backendCpu(db.pid) - cpu) / Number(calls)) * 1e6;
      const fnAfter = await ownTimes(db);
      const stAfter = await statementTimes(db);
      const own = [...fnAfter]
        .map(([name, t]) => [name, ((t.self - (fnBefore.get(name)?.self ?? 0)) * 1000) / Number(calls)])
        .filter(([, us]) => us >= 1)
        .sort((a, b) => b[1] - a[1])
        .map(([name, us]) => `${name} ${us.toFixed(0)}`)
        .join(', ');
      console.log(
        `round ${r + 1} ${db.label}: backend CPU ${perRecord.toFixed(0)} µs a record; own µs a record: ${own}`,
      );
      const statements = [...stAfter]
        .map(([text, t]) => [
          text,
          (t.us - (stBefore.get(text)?.us ?? 0)) / Number(calls),
          (t.plan - (stBefore.get(text)?.plan ?? 0)) / Number(calls),
        ])
        .filter(([, us]) => us >= 2)
        .sort((a, b) => b[1] - a[1]);
      for (const [text, us, plan] of statements)
        console.log(`  ${us.toFixed(0).padStart(5)} µs (planning ${plan.toFixed(0)})  ${oneLine(text)}`);
    }
  }
});
await statsClient?.end();
