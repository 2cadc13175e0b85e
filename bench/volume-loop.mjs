#!/usr/bin/env node
// node bench/volume-loop.mjs [calls] [rounds] [undo] (after `nest build`): the take of one record
// (credits_take_events(), a batch of one) on a rule with volume steps (three graduated steps over the
// month, as bench/volume-run.mjs's rule) and on a rule without, sent self-committing on one
// connection to a scratch database migrated to the end, on random users of 1,000, the sides
// alternated; with `undo` = N > 0, on a second one with its last N migrations undone too (the engine
// before them), the databases alternated. With ENGINE_EDITED=<file.sql,…>, a second scratch database with those files run (the
// functions as edited, before their migration is made), alternated with the first. Per take: the
// backend's CPU (read from /proc: TEST_DATABASE_URL's server must run on this machine) and each SQL
// function's own time and calls (track_functions = 'all' on that connection only; VOLUME_LOOP_TRACK=off:
// none, the CPU of the takes alone), so the volume
// tail's cost is seen apart from HTTP (docs/benchmarks.md "What volume steps cost the record").
import { randomUUID } from 'node:crypto';

import { backendCpu, seededScratch, withScratches } from './engine-scratch.mjs';

const [calls = '2000', rounds = '3', undo = '0'] = process.argv.slice(2);
const USERS = 1000;
const STEPS = [
  [100_000, '100'],
  [1_000_000, '80'],
  [null, '60'],
];
const user = (i) => `bench-${((i * 7919) % USERS) + 1}`;

async function prepared(undoCount) {
  // timing every call costs the backend CPU too: VOLUME_LOOP_TRACK=off measures the takes alone
  const trackFunctions = process.env.VOLUME_LOOP_TRACK !== 'off';
  return seededScratch('volume_loop', undoCount, { users: USERS, credits: 1_000_000_000, trackFunctions });
}

/** One record's take: 1,200 input and 300 output tokens at 2.5 and 10 a thousand (6 credits exact). */
function take(db, side, i) {
  const volume =
    side === 'stepped'
      ? [
          JSON.stringify({
            model: 'bench.volume-stepped',
            mode: 'graduated',
            period: 'month',
            steps: STEPS,
            tokens: 1500,
            base: '6',
            at: null,
            expiryDays: 30,
          }),
        ]
      : null;
  return {
    name: `take-${side}`,
    text: `SELECT * FROM credits_take_events('bench', NULL, 1000, '{1000,10,0}', $1::bigint[], '{6}', $2::uuid[],
                                         p_volumes => $3::jsonb[])`,
    values: [[db.ids.get(user(i))], [randomUUID()], volume],
  };
}

async function ownTimes(db) {
  await db.client.query('SELECT pg_stat_force_next_flush()');
  await db.client.query('SELECT 1');
  await db.client.query('SELECT pg_stat_clear_snapshot()');
  const { rows } = await db.client.query(`SELECT funcname, self_time, calls FROM pg_stat_user_functions`);
  return new Map(rows.map((r) => [r.funcname, { self: Number(r.self_time), calls: Number(r.calls) }]));
}

await withScratches(prepared, undo, async (dbs) => {
  const cpu = new Map();
  for (let r = 0; r < Number(rounds); r++) {
    for (const db of r % 2 === 0 ? dbs : [...dbs].reverse()) {
      for (const side of r % 2 === 0 ? ['plain', 'stepped'] : ['stepped', 'plain']) {
        await db.client.query('ANALYZE');
        for (let i = 0; i < 200; i++) await db.client.query(take(db, side, i));
        const fnBefore = await ownTimes(db);
        const start = backendCpu(db.pid);
        const wall = process.hrtime.bigint();
        for (let i = 0; i < Number(calls); i++) await db.client.query(take(db, side, i));
        const perTake = ((backendCpu(db.pid) - start) / Number(calls)) * 1e6;
        const wallPer = Number(process.hrtime.bigint() - wall) / 1000 / Number(calls);
        const fnAfter = await ownTimes(db);
        const own = [...fnAfter]
          .map(([name, t]) => {
            const before = fnBefore.get(name) ?? { self: 0, calls: 0 };
            return [name, ((t.self - before.self) * 1000) / Number(calls), (t.calls - before.calls) / Number(calls)];
          })
          .filter(([, us]) => us >= 1)
          .sort((a, b) => b[1] - a[1])
          .map(([name, us, n]) => `${name} ${us.toFixed(0)} (${n.toFixed(1)}×)`)
          .join(', ');
        const key = `${db.label} ${side}`;
        cpu.set(key, [...(cpu.get(key) ?? []), perTake]);
        console.log(
          `round ${r + 1} ${key}: backend CPU ${perTake.toFixed(0)} µs, wall ${wallPer.toFixed(0)} µs a take; own µs a take: ${own}`,
        );
      }
    }
  }
  for (const db of dbs) {
    const mean = (side) => cpu.get(`${db.label} ${side}`).reduce((a, b) => a + b, 0) / Number(rounds);
    console.log(
      `${db.label}: backend CPU a take ${mean('plain').toFixed(0)} µs without steps, ${mean('stepped').toFixed(0)} µs with; ` +
        `without ÷ with ${(mean('plain') / mean('stepped')).toFixed(3)}`,
    );
  }
});
