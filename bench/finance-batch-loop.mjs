#!/usr/bin/env node
// node bench/finance-batch-loop.mjs [undo] [batches] [rounds] [value] [spread] (after `nest build`): the
// PostgreSQL backend's CPU time per 1,000-event batch take (`credits_take_events()`, as
// POST /api/usage/records/batch sends it: two statements, each account's events in one of them) on
// valued lots against promotional ones, alternated, on a scratch database migrated to the end and,
// with `undo` = N > 0, on a second one with its last N migrations undone (the engine before them).
// 1,000 users whose one lot of 2,000,000,000 credits is valued at `value` minor units (default
// 1,000,000,000, as `npm run bench:finance` sells them: every take of one credit moves 0; an odd value
// such as 7654321987 makes the shares uneven) and 1,000 whose lot is promotional; each batch's events
// charge one credit to users drawn at random (a seeded sequence, the same on both databases), so a
// lot is touched 0 to 6 times in a statement (`spread` < 1,000 draws them from fewer users: 1, one
// user's lot touched by every event). CPU time, not wall time (docs/benchmarks.md "What
// value tracking costs the record and the batch"). Needs TEST_DATABASE_URL's server on this machine.
import { backendCpu, engineScratch, withScratches } from './engine-scratch.mjs';
import { seedUsers } from './lib.mjs';

const [undo = '0', batches = '40', rounds = '3', value = '1000000000', spread = '1000'] = process.argv.slice(2);
const USERS = 1000;
const EVENTS = 1000;

/** mulberry32: the same events on every database. */
function random(seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function prepared(undoCount) {
  const { scratch, client, pid, label } = await engineScratch('finance_batch_loop', undoCount);
  await seedUsers(client, 2 * USERS, 0);
  await client.query(
    `SELECT count(*)
       FROM accounts a, LATERAL (SELECT substring(a.user_id FROM 7)::int <= $2 AS valued) v,
            LATERAL credits_grant(a.account_id, 2000000000, 'bench', now() + interval '30 days', NULL, 'manual', NULL,
                                  NULL, NULL, false, NULL, NULL, CASE WHEN v.valued THEN $1::bigint END,
                                  CASE WHEN v.valued THEN 'usd' END)
      WHERE a.user_id LIKE 'bench-%'`,
    [value, USERS],
  );
  const ids = (
    await client.query(
      `SELECT a.account_id::text AS id, c.value_minor IS NOT NULL AS valued
         FROM accounts a JOIN credit_allocations c ON c.account_id = a.account_id ORDER BY a.account_id`,
    )
  ).rows;
  const valued = ids.filter((r) => r.valued).map((r) => r.id);
  const promotional = ids.filter((r) => !r.valued).map((r) => r.id);
  if (valued.length !== USERS || promotional.length !== USERS) throw new Error('seeding: 1,000 of each expected');
  await client.query('ANALYZE');
  await client.query('SET synchronous_commit = off');
  return { scratch, client, pid, label, accounts: { valued, promotional } };
}

/** One batch: its events in two statements by account, as the batch route splits them. */
async function batch(db, accounts, next) {
  const parts = [[], []];
  for (let i = 0; i < EVENTS; i++) {
    const id = accounts[Math.floor(next() * Number(spread))];
    parts[Number(BigInt(id) % 2n)].push(id);
  }
  for (const part of parts) {
    await db.client.query({
      name: 'take',
      text: `SELECT count(*) FROM credits_take_events('bench', NULL, NULL, '{1000,10,0}', $1::bigint[], $2::int[],
                                                      $3::uuid[])`,
      values: [part, part.map(() => 1), part.map(() => null)],
    });
  }
}

async function loop(db, side, seed) {
  const next = random(seed);
  for (let i = 0; i < 5; i++) await batch(db, db.accounts[side], next);
  const before = backendCpu(db.pid);
  for (let i = 0; i < Number(batches); i++) await batch(db, db.accounts[side], next);
  return ((backendCpu(db.pid) - before) / Number(batches)) * 1e6;
}

await withScratches(prepared, undo, async (dbs) => {
  for (let r = 0; r < Number(rounds); r++) {
    const line = [];
    for (const db of r % 2 === 0 ? [...dbs].reverse() : dbs) {
      const sides = r % 2 === 0 ? ['valued', 'promotional'] : ['promotional', 'valued'];
      const us = {};
      for (const side of sides) us[side] = await loop(db, side, 1000 + r);
      line.push(
        `${db.label}: valued ${us.valued.toFixed(0)} µs, promotional ${us.promotional.toFixed(0)} µs ` +
          `(${(us.valued / us.promotional).toFixed(3)})`,
      );
    }
    console.log(line.join('  '));
  }
});
