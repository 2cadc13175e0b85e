// npm run bench:database-cpu -- <balance|check|record|pair|batch> [requests] [build folder]: the
// database's CPU per request of a hot route (batch: per event of bench/batch.mjs's batches, sent for
// `requests` seconds, with the machine's idle share). bench:instructions counts the service's Node instructions only; what a
// route costs PostgreSQL (planning and running its statement) is not in them, and that is where
// the reads once lost their speed (docs/benchmarks.md "Where the reads' time went"). This sums the
// CPU time (utime + stime, /proc) of the database processes serving the service's connections across
// the measured requests: CPU time, not wall time, so it moves far less with the machine's load than a
// rate does (a few per cent; the kernel counts in 10 ms ticks, hence thousands of requests). The third
// argument is another commit's build (bench/builds.mjs), seeded by its own bench/lib.mjs. Needs the
// database server on this machine (it reads /proc).
import path from 'node:path';

import autocannon from 'autocannon';
import pg from 'pg';

import { recordCount, runBatches } from './batch.mjs';
import { accessToken, freshDatabase, log, ROOT, startServer, startService, statisticsNow, userIds } from './lib.mjs';
import { machineTicks, withCpu, withDatabaseCpu } from './measure.mjs';
import { pairRequests } from './pair.mjs';

const SCENARIOS = {
  balance: { method: 'GET', path: '/api/credits/balance' },
  check: { method: 'POST', path: '/api/credits/check', body: { credits: 1 } },
  record: {
    method: 'POST',
    path: '/api/usage/record',
    body: { service: 'bench', operation: 'op', credits: 1 },
    meters: true,
  },
  // initialize + finalize of one session, as bench/pair.mjs sends them (pairRequests()); counted per pair.
  pair: { pair: true, meters: true },
  // bench/batch.mjs's 1,000-event batches from 4 clients (an admin's, every event with its eventId), as
  // the versions run sends them; `requests` is its seconds. Per event written.
  batch: { batch: true },
};
const [name = 'balance', count = '5000', build] = process.argv.slice(2);
const scenario = SCENARIOS[name];
if (!scenario) throw new Error(`unknown scenario ${name}: one of ${Object.keys(SCENARIOS).join(', ')}`);
const REQUESTS = Number(count);
const root = build ? path.resolve(build) : ROOT;
const { seedUsers } = await import(path.join(root, 'bench/lib.mjs'));

const server = await startServer();
const database = await freshDatabase(server.url, 'accounting_database_cpu');
const db = new pg.Pool({ connectionString: database.url, max: 1 });
const service = await startService(database.url, { JOBS_ENABLED: 'false' }, { root });
try {
  await seedUsers(db, 1000, 1_000_000_000);
  const ids = userIds(1000);
  const tokens = ids.map((id) => `Bearer ${accessToken(id)}`);
  const meter = `Bearer ${accessToken('bench-meter', 'admin')}`;
  let next = 0;
  const request = () => {
    const i = (next++ * 7919) % ids.length;
    return scenario.meters
      ? { authorization: meter, body: JSON.stringify({ userId: ids[i], ...scenario.body }) }
      : { authorization: tokens[i], body: scenario.body ? JSON.stringify(scenario.body) : undefined };
  };
  const run = (amount) =>
    autocannon({
      url: service.base,
      connections: 8,
      amount: scenario.pair ? amount * 2 : amount,
      timeout: 60,
      requests: scenario.pair
        ? pairRequests(meter, () => ids[(next++ * 7919) % ids.length])
        : [
            {
              method: scenario.method,
              path: scenario.path,
              setupRequest: (req) => {
                const { authorization, body } = request();
                return { ...req, headers: { 'content-type': 'application/json', authorization }, body };
              },
            },
          ],
    });
  if (scenario.batch) await measureBatches(service, ids, db, REQUESTS);
  else {
    // The warm-up opens the pool's connections and creates every account, so the measured window
    // holds only the route's own statements.
    log(`warming up (${REQUESTS} requests, not measured)...`);
    await run(REQUESTS);
    // The warm-up's rows counted, so no plan is made for the tables as the seed left them.
    await statisticsNow(db);
    log(`measuring ${REQUESTS} requests...`);
    const {
      result: { result: measured, cpuMicros: nodeMicros },
      cpuMicros: databaseMicros,
    } = await withDatabaseCpu(db, () => withCpu(service, () => run(REQUESTS)));
    const failed = measured.non2xx + measured.errors + measured.timeouts;
    if (failed > 0) throw new Error(`${failed} measured requests failed`);
    const per = scenario.pair ? measured.requests.total / 2 : measured.requests.total;
    const what = scenario.pair ? 'streaming pair (initialize + finalize)' : `${scenario.method} ${scenario.path}`;
    console.log(
      `${what}: ${Math.round(databaseMicros / per)} µs database CPU and ${Math.round(nodeMicros / per)} µs the service's CPU per ${scenario.pair ? 'pair' : 'request'} (${per} ${scenario.pair ? 'pairs' : 'requests'})`,
    );
  }
} finally {
  await service.stop();
  await db.end();
  await database.drop();
  await server.stop();
}

/**
 * bench/batch.mjs's batches for `seconds` (after 5 s unmeasured): the database's CPU per event written
 * (over the call's 2 s warm-up too, so divided by every record written meanwhile), the service's per
 * event of its measured window, and the machine's idle share over the call.
 */
async function measureBatches(service, ids, db, seconds) {
  log('warming up (5 s of batches, not measured)...');
  await runBatches(service, ids, 5);
  await statisticsNow(db);
  log(`measuring ${seconds} s of batches...`);
  const before = await recordCount(db);
  const ticks = machineTicks();
  const { result: batches, cpuMicros: databaseMicros } = await withDatabaseCpu(db, () =>
    runBatches(service, ids, seconds),
  );
  const after = machineTicks();
  const events = (await recordCount(db)) - before;
  if (batches.errors > 0) throw new Error(`${batches.errors} measured batches failed`);
  const idle = (after.idle - ticks.idle) / (after.all - ticks.all);
  console.log(
    `POST /api/usage/records/batch: ${batches.eventsPerSecond} events/s, ${(databaseMicros / events).toFixed(1)} µs ` +
      `database CPU per event, ${batches.cpuMicrosPerEvent.toFixed(1)} µs the service's, the machine ` +
      `${(idle * 100).toFixed(1)} % idle (${events} events)`,
  );
}
