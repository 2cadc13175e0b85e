#!/usr/bin/env node
// node bench/engine-loop.mjs [undo] [calls] [rounds] (after `nest build`): the PostgreSQL backend's CPU
// time per self-committing call of the engine functions behind the hot write routes, on a scratch
// database migrated to the end and seeded like `npm run bench` (1,000 users, 5 organisations of 40
// members with a daily limit), and, with `undo` = N > 0, on a second one with its last N migrations
// undone (the engine before them), alternated A B A B. The calls, each on a random account:
// `credits_hold()` of one credit and its `credits_settle()` (the streaming pair's engine side), a
// user's take of one credit and an org member's (`credits_take_events()` with one event, as the record
// route sends it; with ENGINE_LOOP_TOGETHER=1 also 32 users' and 32 members' events in one take, as
// records that arrive together are). CPU time, not wall time: a loaded machine moves it far less than a rate
// (docs/benchmarks.md "Where the streaming pair's time went"). Needs TEST_DATABASE_URL's
// server on this machine (it reads /proc).
import { seedBudgets } from './budgets.mjs';
import { backendCpu, engineScratch, withScratches } from './engine-scratch.mjs';
import { seedUsers } from './lib.mjs';
import { seedOrgs } from './orgs.mjs';

const [undo = '0', calls = '3000', rounds = '3'] = process.argv.slice(2);
const USERS = 1000;
const ORGS = 5;
const MEMBERS = 40;

const user = (i) => `bench-${((i * 7919) % USERS) + 1}`;
const member = (i) => ((i * 7919) % (ORGS * MEMBERS)) + 1;
const org = (i) => `bench-org-${Math.ceil(member(i) / MEMBERS)}`;
// Each call as the engine of the database takes it: by account id (`byId`, its ids read once when
// seeded, so the loop times the engine alone) or, on a database from before, by owner and kind; a
// hold as a batch of one (`holdArrays`) where credits_hold() takes arrays.
const CALLS = {
  hold: (db, i, tag) =>
    db.holdArrays
      ? {
          text: `SELECT * FROM credits_hold(ARRAY[$1::bigint], '{1}', ARRAY[$2::varchar], '{bench}', NULL, NULL, '{1000,10,0}')`,
          values: [db.ids.get(user(i)), `${tag}-${i}`],
        }
      : db.byId
        ? {
            text: `SELECT * FROM credits_hold($1, 1, $2, 'bench', NULL, NULL, '{1000,10,0}', NULL)`,
            values: [db.ids.get(user(i)), `${tag}-${i}`],
          }
        : {
            text: `SELECT * FROM credits_hold($1, 1, $2, 'bench', NULL, NULL, '{1000,10,0}', 'user', NULL)`,
            values: [user(i), `${tag}-${i}`],
          },
  settle: (db, i, tag) =>
    db.byId
      ? {
          text: `SELECT * FROM credits_settle($1, $2, 1, 'bench', NULL, NULL, '{1000,10,0}', NULL)`,
          values: [db.ids.get(user(i)), `${tag}-${i}`],
        }
      : {
          text: `SELECT * FROM credits_settle($1, $2, 1, 'bench', NULL, NULL, '{1000,10,0}', 'user', NULL)`,
          values: [user(i), `${tag}-${i}`],
        },
  'user take': (db, i) =>
    db.byId
      ? {
          text: `SELECT * FROM credits_take_events('bench', NULL, NULL, '{1000,10,0}', ARRAY[$1::bigint], ARRAY[1],
                                                   ARRAY[NULL::uuid], ARRAY[NULL::varchar])`,
          values: [db.ids.get(user(i))],
        }
      : {
          text: `SELECT * FROM credits_take_events('bench', NULL, NULL, '{1000,10,0}', ARRAY[$1::varchar], ARRAY[1],
                                                   ARRAY[NULL::uuid], 'user', NULL, ARRAY[NULL::varchar])`,
          values: [user(i)],
        },
  'member take': (db, i) =>
    db.byId
      ? {
          text: `SELECT * FROM credits_take_events('bench', NULL, NULL, '{1000,10,0}', ARRAY[$1::bigint], ARRAY[1],
                                                   ARRAY[NULL::uuid], ARRAY[$2::varchar])`,
          values: [db.ids.get(org(i)), `bench-${member(i)}`],
        }
      : {
          text: `SELECT * FROM credits_take_events('bench', NULL, NULL, '{1000,10,0}', ARRAY[$1::varchar], ARRAY[1],
                                                   ARRAY[NULL::uuid], 'org', NULL, ARRAY[$2::varchar])`,
          values: [org(i), `bench-${member(i)}`],
        },
  // With ENGINE_LOOP_BUDGETS=1, the user's take naming a project budget and a run budget under it
  // (bench/budgets.mjs), as a record with `scopes` sends it: against 'user take', what budgets cost.
  ...(process.env.ENGINE_LOOP_BUDGETS
    ? {
        'budget take': (db, i) => ({
          text: `SELECT * FROM credits_take_events('bench', NULL, NULL, '{1000,10,0}', ARRAY[$1::bigint], ARRAY[1],
                                                   ARRAY[NULL::uuid], ARRAY[NULL::varchar],
                                                   p_scopes => ARRAY['{"project":"bench-p","run":"bench-r"}'::jsonb])`,
          values: [db.ids.get(user(i))],
        }),
      }
    : {}),
  // 32 events in one statement, as the record route sends records that arrive together
  // (docs/money.md "Records that arrive together"): 32 users' records, and 32 org members'.
  ...(process.env.ENGINE_LOOP_TOGETHER
    ? {
        'users ×32': (db, i) =>
          together(
            db,
            i,
            (k) => db.ids.get(user(k)),
            () => null,
          ),
        'members ×32': (db, i) =>
          together(
            db,
            i,
            (k) => db.ids.get(org(k)),
            (k) => `bench-${member(k)}`,
          ),
      }
    : {}),
};

/** A take of 32 events, i·32 … i·32+31, on the accounts (and members) given (account ids only). */
function together(db, i, account, memberOf) {
  const ks = Array.from({ length: 32 }, (_, k) => i * 32 + k);
  return {
    text: `SELECT * FROM credits_take_events('bench', NULL, NULL, '{1000,10,0}', $1::bigint[], array_fill(1, ARRAY[32]),
                                             array_fill(NULL::uuid, ARRAY[32]), $2::varchar[])`,
    values: [ks.map(account), ks.map(memberOf)],
  };
}

async function prepared(undoCount) {
  const { scratch, client, pid, byId, label } = await engineScratch('engine_loop', undoCount);
  await seedUsers(client, USERS, 1_000_000_000);
  await seedOrgs(client, { orgs: ORGS, members: MEMBERS, credits: 1_000_000_000 });
  if (process.env.ENGINE_LOOP_BUDGETS)
    await seedBudgets(
      client,
      Array.from({ length: USERS }, (_, k) => `bench-${k + 1}`),
    );
  await client.query('ANALYZE');
  await client.query('SET synchronous_commit = off');
  const ids = byId
    ? new Map(
        (
          await client.query(`SELECT COALESCE(user_id, org_id) AS owner, account_id::text AS id FROM accounts`)
        ).rows.map((r) => [r.owner, r.id]),
      )
    : null;
  const [{ holdArrays }] = (
    await client.query(
      `SELECT pg_get_function_arguments('credits_hold'::regproc) LIKE 'p_account_ids bigint[]%' AS "holdArrays"`,
    )
  ).rows;
  return { scratch, client, pid, byId, holdArrays, ids, label };
}

let round = 0;
/** µs of backend CPU per call of each kind; the holds are settled by the settle loop that follows. */
async function loops(db) {
  const out = {};
  const tag = `r${round++}`;
  // The rounds before added thousands of holds and lines: plans made for the tables as they are
  // (bench/lib.mjs statisticsNow()), not as seeded, as autovacuum keeps them in service.
  await db.client.query('ANALYZE');
  for (const [name, call] of Object.entries(CALLS)) {
    const warm = `${tag}w`;
    for (let i = 0; i < 200; i++) await db.client.query({ name, ...call(db, i, warm) });
    if (name === 'hold') for (let i = 0; i < 200; i++) await db.client.query(CALLS.settle(db, i, warm));
    const before = backendCpu(db.pid);
    for (let i = 0; i < Number(calls); i++) await db.client.query({ name, ...call(db, i, tag) });
    out[name] = ((backendCpu(db.pid) - before) / Number(calls)) * 1e6;
  }
  return out;
}

await withScratches(prepared, undo, async (dbs) => {
  for (let r = 0; r < Number(rounds); r++) {
    for (const db of [...dbs].reverse()) {
      const us = await loops(db);
      console.log(
        `${db.label}: ${Object.entries(us)
          .map(([k, v]) => `${k} ${v.toFixed(0)} µs`)
          .join(', ')}`,
      );
    }
  }
});
