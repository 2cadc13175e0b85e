// npm run bench, after the roll-forward (npm run bench:finance alone): the cost of value tracking
// (docs/finance.md) on the record and the batch. The built service on a fresh database; 1,000 users
// whose one lot is valued (sold through POST /api/credits/allocate with a value: every take carries
// its money by the rule) and 1,000 whose lot is promotional (the same grant without a value), the
// two interleaved; one round unmeasured, then BENCH_ROUNDS interleaved rounds (default 8, the side
// that goes first alternating) of BENCH_DURATION / 2 seconds each: POST /api/usage/record and
// POST /api/usage/records/batch for each side, compared by summed requests and by the service's Node
// CPU per request, as npm run bench compares them, and by the database's CPU per request (its
// backends serving the service, from /proc: far steadier than a rate). The target: valued /
// promotional no lower than the noise (about 0.95 by requests). BENCH_FINANCE=none skips it.
import { randomUUID } from 'node:crypto';

import autocannon from 'autocannon';
import pg from 'pg';

import { BATCH_EVENTS } from './batch.mjs';
import { accessToken, freshDatabase, log, seedUsers, startServer, startService } from './lib.mjs';
import { combinedRow, withCpu, withDatabaseCpu } from './measure.mjs';

if (process.env.BENCH_FINANCE === 'none') {
  log('BENCH_FINANCE=none: the value-tracking run is skipped');
  process.exit(0);
}
const USERS = 1000;
const CREDITS = 2_000_000_000;
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const BATCH_CLIENTS = 4;
const WINDOW = Math.max(1, Math.round(Number(process.env.BENCH_DURATION ?? 10) / 2));
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 8);

const server = await startServer();
const database = await freshDatabase(server.url, 'accounting_bench_finance');
const service = await startService(database.url, { NODE_ENV: 'test', PRICING_STRICT: 'true', LOG_FORMAT: 'json' });
const db = new pg.Pool({ connectionString: database.url, max: 2 });
const admin = `Bearer ${accessToken('bench-admin', 'admin')}`;
const meter = `Bearer ${accessToken('bench-meter', 'admin')}`;
/**
 * The two sides' users interleaved: bench-1, bench-3, … valued lots, bench-2, bench-4, …
 * promotional ones, granted in turn. With the valued users first (bench-1 … bench-1000, granted
 * first) their records were about 5 % slower whichever side they were on: swapped, the promotional
 * records on those users were the slower ones (docs/benchmarks.md "What value tracking costs the
 * record and the batch").
 */
const userOf = (valued) => () => `bench-${2 * Math.floor(Math.random() * USERS) + (valued ? 1 : 2)}`;

/** Each user's one lot, granted through the route: with a value (10,000,000.00 usd) or without, in turn. */
async function grant() {
  for (let i = 1; i <= 2 * USERS; i++) {
    const valued = i % 2 === 1;
    const response = await fetch(`${service.base}/api/credits/allocate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: admin, 'idempotency-key': randomUUID() },
      body: JSON.stringify({
        userId: `bench-${i}`,
        credits: CREDITS,
        expiryDays: 30,
        ...(valued ? { value: { amount: '10000000.00', currency: 'usd' } } : {}),
      }),
    });
    if (!response.ok) throw new Error(`allocate: ${response.status} ${await response.text()}`);
  }
}

const post = (path, connections, body) => (duration) =>
  autocannon({
    url: service.base,
    connections,
    duration,
    requests: [
      {
        method: 'POST',
        path,
        setupRequest: (req) => ({
          ...req,
          headers: { 'content-type': 'application/json', authorization: meter },
          body: JSON.stringify(body()),
        }),
      },
    ],
  });
const record = (valued) => {
  const user = userOf(valued);
  return post('/api/usage/record', CONNECTIONS, () => ({
    userId: user(),
    service: 'bench',
    operation: 'op',
    credits: 1,
  }));
};
const batch = (valued) => {
  const user = userOf(valued);
  return post('/api/usage/records/batch', BATCH_CLIENTS, () => ({
    events: Array.from({ length: BATCH_EVENTS }, () => ({
      eventId: randomUUID(),
      service: 'bench',
      operation: 'op',
      credits: 1,
      userId: user(),
    })),
  }));
};

try {
  await seedUsers(db, 2 * USERS, 0);
  await grant();
  await db.query('ANALYZE');
  const scenarios = [
    ['record', true, record(true)],
    ['record', false, record(false)],
    ['batch', true, batch(true)],
    ['batch', false, batch(false)],
  ];
  // A whole round unmeasured first: the first window after a short warm-up ran while the database
  // still digested the warm-up's batches, and it was always the valued side's (the first round starts
  // with it), about a fifth below that side's other windows.
  log('warming up (one round, unmeasured)...');
  for (const [, , run] of scenarios) await run(WINDOW);
  const windows = new Map(scenarios.map(([kind, valued]) => [`${kind} ${valued}`, []]));
  for (let i = 0; i < ROUNDS; i++) {
    log(`round ${i + 1} of ${ROUNDS}...`);
    for (const kind of ['record', 'batch']) {
      // The side measured first alternates, so a machine slowing down during a round favours neither.
      for (const valued of i % 2 === 0 ? [true, false] : [false, true]) {
        const [, , run] = scenarios.find(([k, v]) => k === kind && v === valued);
        // The database's CPU a request too (its backends serving the service): far steadier than a rate.
        const { result, cpuMicros: databaseMicros } = await withDatabaseCpu(db, () =>
          withCpu(service, () => run(WINDOW)),
        );
        windows.get(`${kind} ${valued}`).push({ ...result, databaseMicros });
      }
    }
  }
  const name = { record: 'POST /api/usage/record', batch: `POST /api/usage/records/batch (${BATCH_EVENTS} events)` };
  const rows = scenarios.map(([kind, valued]) =>
    combinedRow(`${name[kind]} (${valued ? 'valued lots' : 'promotional lots'})`, windows.get(`${kind} ${valued}`)),
  );
  console.table(rows);
  const summed = (w, f = (x) => x.result.requests.total) => w.reduce((sum, x) => sum + f(x), 0);
  /** The database's CPU µs a request over a side's windows. */
  const database = (w) => summed(w, (x) => x.databaseMicros) / summed(w);
  for (const [k, kind] of ['record', 'batch'].entries()) {
    const [valued, promotional] = [windows.get(`${kind} true`), windows.get(`${kind} false`)];
    const ratio = summed(valued) / summed(promotional);
    const cpu = rows[2 * k]['CPU µs/req'] / rows[2 * k + 1]['CPU µs/req'];
    console.log(
      `${kind}: valued / promotional ${ratio.toFixed(3)} by requests, ${cpu.toFixed(3)} by Node CPU per request, ` +
        `${(database(valued) / database(promotional)).toFixed(3)} by database CPU per request ` +
        `(${Math.round(database(valued))} against ${Math.round(database(promotional))} µs)`,
    );
  }
} finally {
  await db.end();
  await service.stop();
  await database.drop();
  await server.stop();
}
