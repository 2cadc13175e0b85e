// node bench/budgets-run.mjs (after npm run build; npm run bench:budgets builds first): the budgets
// scenario of npm run bench alone (bench/budgets.mjs): records naming a project budget and a run
// budget under it against the same records without scopes, on a fresh database with 1,000 users, in
// BENCH_ROUNDS interleaved rounds (default 8, the order alternating) of BENCH_DURATION / 2 seconds each
// (default 5), compared by summed requests, the service's Node CPU per request and the database's
// CPU per request (its backends', /proc: the database server must run on this machine).
import pg from 'pg';

import { budgetRecord, seedBudgets } from './budgets.mjs';
import { accessToken, freshDatabase, log, postLoad, seedUsers, startServer, startService, userIds } from './lib.mjs';
import { combinedRow, withCpu, withDatabaseCpu } from './measure.mjs';

const USERS = 1000;
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const WINDOW = Math.max(1, Math.round(Number(process.env.BENCH_DURATION ?? 10) / 2));
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 8);

const server = await startServer();
const database = await freshDatabase(server.url, 'accounting_bench_budgets');
const service = await startService(database.url, { NODE_ENV: 'test', PRICING_STRICT: 'true', LOG_FORMAT: 'json' });
const db = new pg.Pool({ connectionString: database.url, max: 2 });
const meter = `Bearer ${accessToken('bench-meter', 'admin')}`;
const ids = userIds(USERS);
const randomId = () => ids[Math.floor(Math.random() * ids.length)];

/** Records for random users, with (`scoped`) or without the two budgets' scopes. */
const run = (scoped, duration) => {
  const scenario = budgetRecord(scoped, randomId, meter);
  return postLoad({
    base: service.base,
    connections: CONNECTIONS,
    duration,
    authorization: meter,
    body: scenario.body,
  });
};
/** A window measured: the service's Node CPU, and the database's backends' CPU over the same window. */
const measure = async (scoped) => {
  const { result, cpuMicros: dbMicros } = await withDatabaseCpu(db, () => withCpu(service, () => run(scoped, WINDOW)));
  return { ...result, dbMicros };
};

try {
  await seedUsers(db, USERS, 1_000_000_000);
  await seedBudgets(db, ids);
  await db.query('ANALYZE');
  log('warming up...');
  await run(false, 2);
  await run(true, 2);
  log(`${ROUNDS} interleaved rounds of ${WINDOW} s a side...`);
  const rounds = { without: [], with: [] };
  for (let i = 0; i < ROUNDS; i++) {
    const order = i % 2 === 0 ? ['without', 'with'] : ['with', 'without'];
    for (const side of order) rounds[side].push(await measure(side === 'with'));
  }
  const rows = [
    combinedRow('POST /api/usage/record (no scopes, rounds)', rounds.without),
    combinedRow('POST /api/usage/record (two budgets, rounds)', rounds.with),
  ];
  const summed = (windows, f) => windows.reduce((sum, w) => sum + f(w), 0);
  const requests = (windows) => summed(windows, (w) => w.result.requests.total);
  const dbPerRequest = (windows) => summed(windows, (w) => w.dbMicros) / requests(windows);
  rows[0]['DB µs/req'] = Number(dbPerRequest(rounds.without).toFixed(1));
  rows[1]['DB µs/req'] = Number(dbPerRequest(rounds.with).toFixed(1));
  console.table(rows);
  const perRound = rounds.without.map((w, i) =>
    (rounds.with[i].result.requests.total / w.result.requests.total).toFixed(3),
  );
  console.log(
    `two budgets / no scopes: ${(requests(rounds.with) / requests(rounds.without)).toFixed(3)} by requests ` +
      `(per round ${perRound.join(', ')}), ${(rows[1]['CPU µs/req'] / rows[0]['CPU µs/req']).toFixed(3)} by Node CPU ` +
      `per request, ${(rows[1]['DB µs/req'] / rows[0]['DB µs/req']).toFixed(3)} by database CPU per request`,
  );
} finally {
  await db.end();
  await service.stop();
  await database.drop();
  await server.stop();
}
