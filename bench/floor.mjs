// npm run bench:floor: how many batch events per second the database can take when it does nothing but
// write the rows the contract asks of each one — its usage record, its event id, its ledger line and
// its `usage.record` audit entry, into the real tables with their indexes, foreign keys and triggers —
// 1,000 events a transaction, with no lock, no decision, no allocation update and no service. That is
// a ceiling for POST /api/usage/records/batch, printed beside pgbench TPC-B measured in the same run
// (as npm run bench measures it) and issue 32's batch target (8× TPC-B). Runs A B A B: the rows with
// time-ordered ids (uuid_v7(), the schema's default) and with random ones (gen_random_uuid()).
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import pg from 'pg';

import {
  freshDatabase,
  hasPgbench,
  log,
  pgbench,
  seedUsers,
  startServer,
  startService,
  tpcb,
  tpcbDatabase,
  tpsOf,
} from './lib.mjs';

const USERS = 1000;
const EVENTS = 1000;
const CLIENTS = Number(process.env.FLOOR_CLIENTS ?? 2);
const DURATION = Number(process.env.BENCH_DURATION ?? 10);
const TARGET = 8;

if (!hasPgbench()) throw new Error('bench:floor needs pgbench (postgresql-contrib / the PostgreSQL client tools)');

/** One transaction: EVENTS events of random users, each with the four rows a batch event writes. */
const script = (idFunction) => `
WITH r AS (
  INSERT INTO usage_records (id, user_id, "timestamp", service, operation, credits, billing_status, shortfall,
                             usage_source, actor_id)
  SELECT ${idFunction}, 'bench-' || (1 + floor(random() * ${USERS})::int), clock_timestamp(), 'bench', 'op', 1,
         'billed', 0, 'reported', 'bench-admin'
    FROM generate_series(1, ${EVENTS})
  RETURNING id, user_id),
e AS (
  INSERT INTO usage_event_ids (owner, event_id, usage_record_id)
  SELECT 'bench-admin', 'floor-' || r.id, r.id FROM r RETURNING 1),
l AS (
  INSERT INTO credit_ledger (account_id, user_id, allocation_id, kind, amount, balance_after, usage_record_id, created_by)
  SELECT a.account_id, r.user_id, al.id, 'debit', -1, 0, r.id, 'bench-admin'
    FROM r JOIN accounts a ON a.user_id = r.user_id JOIN credit_allocations al ON al.account_id = a.account_id
  RETURNING 1),
au AS (
  INSERT INTO audit_log (at, actor_user_id, actor_role, actor_via, action, target_type, target_id, after, request_id)
  SELECT date_trunc('milliseconds', now()), 'bench-admin', 'admin', 'jwt', 'usage.record', 'usage_record', r.id::text,
         jsonb_build_object('id', r.id, 'userId', r.user_id, 'actorId', 'bench-admin', 'credits', 1, 'eventId',
                            'floor-' || r.id, 'service', 'bench', 'operation', 'op', 'orgId', NULL, 'modelId', NULL,
                            'apiKeyId', NULL, 'metadata', NULL),
         gen_random_uuid()::text
    FROM r RETURNING 1)
SELECT (SELECT count(*) FROM e) + (SELECT count(*) FROM l) + (SELECT count(*) FROM au);
`;

const server = await startServer();
log(`database server: ${server.kind}`);
const database = await freshDatabase(server.url, 'accounting_floor');
// The service migrates the database at start-up; it is stopped again before anything is measured.
const service = await startService(database.url, { NODE_ENV: 'test' });
await service.stop();
const db = new pg.Pool({ connectionString: database.url, max: 1 });
let scratch = null;
const dir = path.join(tmpdir(), `accounting-floor-${process.pid}`);
const files = { v7: `${dir}-v7.sql`, v4: `${dir}-v4.sql` };
writeFileSync(files.v7, script('uuid_v7()'));
writeFileSync(files.v4, script('gen_random_uuid()'));
try {
  await seedUsers(db, USERS, 1_000_000);
  scratch = await tpcbDatabase(server.url, 'accounting_floor_pgbench');
  const tpcbRuns = [];
  const runTpcb = () => tpcbRuns.push(tpcb(scratch.url, { connections: 32, duration: DURATION }));
  runTpcb();
  const floor = { v7: [], v4: [] };
  for (const ids of ['v7', 'v4', 'v7', 'v4']) {
    const { rows } = await db.query('SELECT count(*)::int AS n FROM usage_records');
    log(`write floor, ${ids} ids, ${CLIENTS} clients × ${EVENTS}-event transactions (${rows[0].n} records so far) ...`);
    const out = pgbench([
      '-n',
      '-c',
      String(CLIENTS),
      '-j',
      String(CLIENTS),
      '-T',
      String(DURATION),
      '-f',
      files[ids],
      database.url,
    ]);
    floor[ids].push(Math.round(tpsOf(out) * EVENTS));
  }
  runTpcb();
  const tpcbMean = tpcbRuns.reduce((a, b) => a + b, 0) / tpcbRuns.length;
  const mean = (xs) => Math.round(xs.reduce((a, b) => a + b, 0) / xs.length);
  const ratio = (x) => `${(x / tpcbMean).toFixed(2)}×`;
  console.log(`\npgbench TPC-B: ${tpcbRuns.map(Math.round).join(' / ')} tps (mean ${Math.round(tpcbMean)})`);
  console.log(
    `Batch target (issue 32): ${TARGET}× TPC-B = ${Math.round(TARGET * tpcbMean).toLocaleString('en')} events/s`,
  );
  console.table([
    {
      ids: 'time-ordered (uuid_v7)',
      'events/s': floor.v7.join(' / '),
      mean: mean(floor.v7),
      '× TPC-B': ratio(mean(floor.v7)),
    },
    {
      ids: 'random (gen_random_uuid)',
      'events/s': floor.v4.join(' / '),
      mean: mean(floor.v4),
      '× TPC-B': ratio(mean(floor.v4)),
    },
  ]);
  console.log(
    'The rows alone, with no lock, decision, allocation update or service: what POST /api/usage/records/batch ' +
      'can reach at most on this machine.',
  );
} finally {
  await db.end();
  await database.drop();
  await scratch?.drop();
  await server.stop();
}
