#!/usr/bin/env node
// node bench/keyed-parts.mjs [calls] [rounds] (after `nest build`; through npm for the project's Node):
// where a keyed record's statement spends what a plain one does not. The record route's statements
// (queries/usage/record.sql and record-key.sql, as the route sends them) carry KEYED_PARTS_BATCH
// (default 16) records of random users, self-committing on one connection to a scratch database
// migrated to the end (1,000 users), in these variants, alternated round by round:
//   plain          the plain record's statement
//   plain, keyed JSON  the same, its events carrying a key and an answer's template each (read by nothing)
//   keyed          the keyed statement: the keys claimed, the answers stored
//   keyed, unstored    the same without its `stored` part (no answer written)
//   keyed, unjoined    the same, each answer stored as its template, not concatenated with the record's columns
// Per record: the backend's CPU, read from /proc (TEST_DATABASE_URL's server must run on this machine).
// CPU time, not wall time: the machine's load moves it far less than a rate (docs/benchmarks.md
// "History by commit").
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';

import { chargedAccount } from '../dist/src/accounts/account-ref.js';
import { advisoryLockId, requestFingerprint } from '../dist/src/idempotency/idempotency.fingerprint.js';
import { answerTemplate } from '../dist/src/usage/usage-record-rows.js';
import { backendCpu, seededScratch, withScratches } from './engine-scratch.mjs';

const [calls = '400', rounds = '6'] = process.argv.slice(2);
const USERS = 1000;
const BATCH = Number(process.env.KEYED_PARTS_BATCH ?? 16);
const statementOf = (file) =>
  readFileSync(new URL(`../queries/usage/${file}`, import.meta.url), 'utf8')
    .split('\n')
    .filter((line) => !line.startsWith('--'))
    .join('\n');
const PLAIN = statementOf('record.sql');
const KEYED = statementOf('record-key.sql');
const STORED = /stored AS \(INSERT[\s\S]*?RETURNING 1\)/;
const JOINED = /e\.answer \|\| jsonb_build_object\([\s\S]*?\) AS answer/;
for (const [name, part] of [
  ['stored', STORED],
  ['the answer joined', JOINED],
]) {
  if (!part.test(KEYED)) throw new Error(`queries/usage/record-key.sql has no ${name} part this bench knows`);
}
const VARIANTS = {
  plain: { text: PLAIN, keyed: false },
  'plain, keyed JSON': { text: PLAIN, keyed: true },
  keyed: { text: KEYED, keyed: true },
  'keyed, unstored': { text: KEYED.replace(STORED, 'stored AS (SELECT 1)'), keyed: true },
  'keyed, unjoined': { text: KEYED.replace(JOINED, 'e.answer AS answer'), keyed: true },
};
const user = (i) => `bench-${((i * 7919) % USERS) + 1}`;

let next = 0;
/** One statement of BATCH records as the route sends it for users' JWTs: no key, the hourly limit, the thresholds. */
function statement(db, name) {
  const { text, keyed } = VARIANTS[name];
  const events = [];
  for (let j = 0; j < BATCH; j++) {
    const userId = user(next++);
    const event = { id: randomUUID(), user_id: userId, service: 'bench', operation: 'op', credits: 1 };
    if (keyed) {
      // the key, its lock id, the request's fingerprint and the answer's template, as the route hands them
      const principal = `user:${userId}`;
      const key = randomUUID();
      const body = { service: 'bench', operation: 'op', credits: 1 };
      event.idem = {
        principal,
        key,
        lock: advisoryLockId(principal, key),
        fingerprint: requestFingerprint('POST', '/api/usage/record', { body, query: {} }),
        path: '/api/usage/record',
        status: 201,
      };
      event.answer = answerTemplate({ ...body, id: event.id, account: chargedAccount(null, userId) });
    }
    events.push(event);
  }
  const accounts = events.map((e) => db.ids.get(e.user_id));
  const values = [null, JSON.stringify(events), null, 1000, '{1000,10,0}', accounts, events.map((e) => e.user_id)];
  // the plain statement gives the take its arrays: the amounts, records, members, volumes, scopes
  if (text.includes('$8::int[]'))
    values.push(
      events.map(() => 1),
      events.map((e) => e.id),
      events.map(() => null),
      null,
      null,
    );
  return { name: `keyed_parts_${Object.keys(VARIANTS).indexOf(name)}`, text, values };
}

const prepared = async () => {
  const db = await seededScratch('keyed_parts', 0, { users: USERS, credits: 1_000_000_000, trackFunctions: false });
  await db.client.query('SET synchronous_commit = on');
  return db;
};

await withScratches(prepared, 0, async ([db]) => {
  const names = Object.keys(VARIANTS);
  const results = Object.fromEntries(names.map((name) => [name, []]));
  for (let r = 0; r < Number(rounds); r++) {
    for (const name of r % 2 === 0 ? names : [...names].reverse()) {
      for (let i = 0; i < 30; i++) await db.client.query(statement(db, name));
      const cpu = backendCpu(db.pid);
      for (let i = 0; i < Number(calls); i++) await db.client.query(statement(db, name));
      results[name].push(((backendCpu(db.pid) - cpu) / (Number(calls) * BATCH)) * 1e6);
    }
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  console.log(`backend CPU a record, ${BATCH} records a statement, ${rounds} rounds of ${calls} statements:`);
  for (const name of names) {
    const figures = results[name].map((us) => us.toFixed(0)).join(', ');
    console.log(`  ${name.padEnd(18)} median ${median(results[name]).toFixed(0)} µs (${figures})`);
  }
});
