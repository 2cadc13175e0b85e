#!/usr/bin/env node
// node bench/batch-loop.mjs [undo] [statements] [rounds] [events] (after `nest build`): the PostgreSQL
// backend's CPU time per event of the batch route's statement (queries/usage/batch.sql, or the
// file BATCH_SQL names: another checkout's, to compare statement shapes) beside the write floor's
// (bench/floor-rows.mjs: the rows alone) and the floor locked (the same rows with the events' accounts
// locked and their allocations lowered, as the engine must: lockedFloorScript()) and a lower bound of a
// take written as set statements with no loop (bench/set-take.sql: what it leaves out is listed there),
// each a transaction
// of `events` events (500: a 1,000-event batch goes out in BATCH_PARTS = 2 statements) for random
// users among 1,000 seeded as `npm run bench` seeds them, every event with its eventId and its
// credits named by an admin, as bench/batch.mjs sends them. On a scratch database migrated to the end
// and, with `undo` = N > 0, on a second one with its last N migrations undone, alternated A B A B. CPU
// time, not wall time: a loaded machine moves it far less than a rate (docs/benchmarks.md "The batch
// against its floor, piece by piece"). Needs TEST_DATABASE_URL's server on this machine (it reads
// /proc).
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';

import { timeOrderedId } from '../dist/src/common/time-ordered-id.js';
import { backendCpu, engineScratch, withScratches } from './engine-scratch.mjs';
import { floorScript, lockedFloorScript } from './floor-rows.mjs';
import { seedUsers } from './lib.mjs';

const [undo = '0', statements = '40', rounds = '3', events = '500'] = process.argv.slice(2);
const USERS = 1000;
/** A statement's text without its comment lines. */
const sqlOf = (file) =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => !line.startsWith('--'))
    .join('\n');
const batchSql = sqlOf(process.env.BATCH_SQL ?? new URL('../queries/usage/batch.sql', import.meta.url));
const setTakeSql = sqlOf(new URL('./set-take.sql', import.meta.url));

let next = 0;
/** The events' JSON as UsageRecordsRepository.batchParts() sends it for the bench's batch. */
const payload = (n) =>
  JSON.stringify(
    Array.from({ length: n }, () => ({
      id: timeOrderedId(),
      user_id: `bench-${1 + Math.floor(Math.random() * USERS)}`,
      event_id: `loop-${next++}`,
      service: 'bench',
      operation: 'op',
      credits: 1,
      actor_id: 'bench-admin',
      credits_named: true,
      request_id: randomUUID(),
    })),
  );

async function prepared(undoCount) {
  const db = await engineScratch('batch_loop', undoCount);
  await seedUsers(db.client, USERS, 1_000_000);
  db.floor = floorScript('uuid_v7()', USERS, Number(events));
  db.locked = lockedFloorScript('uuid_v7()', USERS, Number(events));
  return db;
}

/** Backend CPU µs per event of `count` statements, each made by `next()`. */
async function perEvent(db, count, next) {
  const before = backendCpu(db.pid);
  for (let i = 0; i < count; i++) await db.client.query(next());
  return ((backendCpu(db.pid) - before) / (count * Number(events))) * 1e6;
}

const batch = () => ({
  name: 'batch_loop',
  text: batchSql,
  values: ['bench-admin', payload(Number(events)), 'bench-admin', null, null, [100]],
});
const setTake = () => ({ name: 'set_take', text: setTakeSql, values: ['bench-admin', payload(Number(events))] });
const floor = (db) => () => db.floor;
const locked = (db) => () => db.locked;

await withScratches(prepared, undo, async (dbs) => {
  for (const db of dbs) {
    await perEvent(db, 5, batch);
    await perEvent(db, 5, floor(db));
    await perEvent(db, 5, locked(db));
    await perEvent(db, 5, setTake);
  }
  for (let r = 0; r < Number(rounds); r++) {
    const line = [];
    for (const db of r % 2 ? [...dbs].reverse() : dbs) {
      const b = await perEvent(db, Number(statements), batch);
      const f = await perEvent(db, Number(statements), floor(db));
      const k = await perEvent(db, Number(statements), locked(db));
      const t = await perEvent(db, Number(statements), setTake);
      line.push(
        `${db.label}: batch ${b.toFixed(1)} µs, floor ${f.toFixed(1)}, floor locked ${k.toFixed(1)}, ` +
          `set take ${t.toFixed(1)} µs an event`,
      );
    }
    console.log(line.join('  '));
  }
});
