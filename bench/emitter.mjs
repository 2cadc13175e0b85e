#!/usr/bin/env node
// node bench/emitter.mjs [undo] [events] [rounds] (after `nest build`): the PostgreSQL backend's CPU
// time per event of the outbox's emitter, on a scratch database migrated to the end and, with `undo`
// = N > 0, on a second one with its last N migrations undone, alternated A B A B. Each round emits
// `events` events in a transaction rolled back, with three endpoints (one subscribed to the type, one
// to another, one inactive): one `emit_event()` call per event (as the engine's alerts and grants
// emit), then the same number through `emit_events()` in calls of 2,000 (a re-rate's chunk). CPU
// time, not wall time (docs/benchmarks.md "The one emitter"). Needs TEST_DATABASE_URL's server on this
// machine (it reads /proc).
import { backendCpu, engineScratch, withScratches } from './engine-scratch.mjs';

const [undo = '1', events = '5000', rounds = '5'] = process.argv.slice(2);
const N = Number(events);
const CHUNK = 2000;

const SHAPES = {
  one: `DO $$ BEGIN FOR i IN 1..${N} LOOP
          PERFORM emit_event('balance.low', 'u-' || i, jsonb_build_object('threshold', 100, 'balance', i));
        END LOOP; END $$`,
  chunk: `DO $$ BEGIN FOR i IN 1..${Math.max(1, Math.round(N / CHUNK))} LOOP
            PERFORM emit_events('balance.low', array_agg('u-' || j), array_agg(jsonb_build_object('threshold', 100, 'balance', j)))
              FROM generate_series(1, ${CHUNK}) j;
          END LOOP; END $$`,
};
const perEvent = { one: N, chunk: Math.max(1, Math.round(N / CHUNK)) * CHUNK };

async function prepare(undoCount) {
  const db = await engineScratch('bench_emitter', undoCount);
  await db.client.query(`INSERT INTO webhook_endpoints (url, secret_encrypted, events, is_active)
    VALUES ('https://a.example/h', 'sealed', ARRAY['balance.low']::varchar[], true),
           ('https://b.example/h', 'sealed', ARRAY['credits.granted']::varchar[], true),
           ('https://c.example/h', 'sealed', ARRAY['*']::varchar[], false)`);
  return db;
}

/** Backend CPU µs per event of one round of `shape`. */
async function round(db, shape) {
  await db.client.query('BEGIN');
  const before = backendCpu(db.pid);
  await db.client.query(SHAPES[shape]);
  const used = backendCpu(db.pid) - before;
  await db.client.query('ROLLBACK');
  return (used * 1e6) / perEvent[shape];
}

await withScratches(prepare, undo, async (dbs) => {
  const times = new Map(dbs.map((db) => [db.label, { one: [], chunk: [] }]));
  for (const db of dbs) for (const shape of Object.keys(SHAPES)) await round(db, shape); // warm
  for (let r = 0; r < Number(rounds); r++)
    for (const db of r % 2 ? [...dbs].reverse() : dbs)
      for (const shape of Object.keys(SHAPES)) times.get(db.label)[shape].push(await round(db, shape));
  const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
  for (const [label, t] of times)
    console.log(
      `${label}: emit_event ${median(t.one).toFixed(0)} µs an event, emit_events in chunks of ${CHUNK} ${median(t.chunk).toFixed(0)} µs an event (medians of ${rounds})`,
    );
});
