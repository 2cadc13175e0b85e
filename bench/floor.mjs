// npm run bench:floor: how many batch events per second the database can take when it does nothing but
// write the rows each one needs — its usage record, its event id and its ledger line (metering is its
// own audit trail: no audit entry), into the real tables with their indexes, foreign keys and triggers —
// 1,000 events a transaction, with no lock, no decision, no allocation update and no service. That is
// a ceiling for POST /api/usage/records/batch, printed beside pgbench TPC-B measured in the same run
// (as npm run bench measures it) and the batch target (8× TPC-B). Runs A B A B: the rows with
// time-ordered ids (uuid_v7(), the schema's default) and with random ones (gen_random_uuid()).
import pg from 'pg';

import { measureFloor } from './floor-rows.mjs';
import { freshDatabase, hasPgbench, log, seedUsers, startServer, startService, tpcb, tpcbDatabase } from './lib.mjs';

const USERS = 1000;
const CLIENTS = Number(process.env.FLOOR_CLIENTS ?? 2);
const DURATION = Number(process.env.BENCH_DURATION ?? 10);
const TARGET = 8;

if (!hasPgbench()) throw new Error('bench:floor needs pgbench (postgresql-contrib / the PostgreSQL client tools)');

const server = await startServer();
log(`database server: ${server.kind}`);
const database = await freshDatabase(server.url, 'accounting_floor');
// The service migrates the database at start-up; it is stopped again before anything is measured.
const service = await startService(database.url, { NODE_ENV: 'test' });
await service.stop();
const db = new pg.Pool({ connectionString: database.url, max: 1 });
let scratch = null;
const idFunctions = { v7: 'uuid_v7()', v4: 'gen_random_uuid()' };
try {
  await seedUsers(db, USERS, 1_000_000);
  scratch = await tpcbDatabase(server.url, 'accounting_floor_pgbench');
  const tpcbRuns = [];
  const runTpcb = () => tpcbRuns.push(tpcb(scratch.url, { connections: 32, duration: DURATION }));
  runTpcb();
  const floor = { v7: [], v4: [] };
  for (const ids of ['v7', 'v4', 'v7', 'v4']) {
    const { rows } = await db.query('SELECT count(*)::int AS n FROM usage_records');
    log(`(${rows[0].n} records so far)`);
    floor[ids].push(
      measureFloor(database.url, { users: USERS, clients: CLIENTS, duration: DURATION, idFunction: idFunctions[ids] }),
    );
  }
  runTpcb();
  const tpcbMean = tpcbRuns.reduce((a, b) => a + b, 0) / tpcbRuns.length;
  const mean = (xs) => Math.round(xs.reduce((a, b) => a + b, 0) / xs.length);
  const ratio = (x) => `${(x / tpcbMean).toFixed(2)}×`;
  console.log(`\npgbench TPC-B: ${tpcbRuns.map(Math.round).join(' / ')} tps (mean ${Math.round(tpcbMean)})`);
  console.log(`Batch target: ${TARGET}× TPC-B = ${Math.round(TARGET * tpcbMean).toLocaleString('en')} events/s`);
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
