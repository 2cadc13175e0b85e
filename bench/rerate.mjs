// npm run bench:rerate (docs/benchmarks.md "Re-rates"): a re-rate of BENCH_RERATE_RECORDS (default
// 100,000) priced records on a fresh database, every record repriced by it, timed to its completion.
// The records are seeded by SQL (as bench/simulation.mjs seeds them) for 1,000 users whose lots pay
// what the re-rate adds; POST /api/pricing/rerates, then its progress polled until it completes:
// records examined per second, corrections written per second, the total time.
// BENCH_RERATE_MAX_SECONDS stops polling after that long and prints the rates so far (a slow build).
import { loadavg } from 'node:os';

import pg from 'pg';

import { accessToken, freshDatabase, log, seedUsers, startServer, startService, statisticsNow } from './lib.mjs';
import { PRICED_MODEL, seedAccountPrices, seedRecords } from './pricing.mjs';

const RECORDS = Number(process.env.BENCH_RERATE_RECORDS ?? 100_000);
const MAX_SECONDS = Number(process.env.BENCH_RERATE_MAX_SECONDS ?? 0);
const USERS = 1000;
/** Each user's lot: enough to pay every correction of its records (the re-rate raises their price). */
const CREDITS = 100_000_000;

async function call(base, authorization, method, path, body) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { 'content-type': 'application/json', authorization },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const answer = await res.json();
  if (!res.ok) throw new Error(`${path}: ${res.status} ${JSON.stringify(answer)}`);
  return answer;
}

const server = await startServer();
const database = await freshDatabase(server.url, 'accounting_bench_rerate');
const service = await startService(database.url, {
  NODE_ENV: 'test',
  PRICING_STRICT: 'true',
  LOG_FORMAT: 'json',
  JOBS_ENABLED: 'false',
});
const db = new pg.Pool({ connectionString: database.url, max: 2 });
try {
  const admin = `Bearer ${accessToken('bench-admin', 'admin')}`;
  await call(service.base, admin, 'GET', '/api/users/me');
  await seedUsers(db, USERS, CREDITS);
  await seedAccountPrices(service, db, admin);
  log(`seeding ${RECORDS} records...`);
  await seedRecords(db, RECORDS, USERS);
  await statisticsNow(db);

  const load = loadavg()[0];
  const started = performance.now();
  // Every seeded record cost 1 credit; at these prices each costs more: one correction per record.
  const rerate = await call(service.base, admin, 'POST', '/api/pricing/rerates', {
    rerateId: `bench-${Date.now()}`,
    from: new Date(Date.now() - 31 * 86_400_000).toISOString(),
    to: new Date(Date.now() + 60_000).toISOString(),
    rules: [{ modelId: PRICED_MODEL, pricePer1kTokens: '2.5', outputPricePer1kTokens: '12' }],
    reason: 'bench re-rate',
  });
  let state = rerate;
  let stopped = false;
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    state = await call(service.base, admin, 'GET', `/api/pricing/rerates/${rerate.id}`);
    if (state.status !== 'running') break;
    if (MAX_SECONDS > 0 && performance.now() - started > MAX_SECONDS * 1000) {
      stopped = true;
      break;
    }
  }
  const seconds = (performance.now() - started) / 1000;
  if (state.status === 'failed') throw new Error(`the re-rate failed: ${state.lastError}`);
  const { rows } = await db.query(`SELECT count(*)::int AS n FROM usage_corrections WHERE correction_id = $1`, [
    `rerate:${state.rerateId}`,
  ]);
  console.log(
    `re-rate of ${RECORDS} seeded records: ${state.status}${stopped ? ` (stopped polling after ${MAX_SECONDS} s)` : ''}`,
  );
  console.log(`  examined  ${state.records} records: ${Math.round(state.records / seconds)} records/s`);
  console.log(
    `  corrected ${state.corrected} records (${rows[0].n} corrections): ${Math.round(state.corrected / seconds)} corrections/s`,
  );
  console.log(
    `  total     ${seconds.toFixed(1)} s; load average ${load.toFixed(1)} before, ${loadavg()[0].toFixed(1)} after`,
  );
} finally {
  await db.end();
  await service.stop();
  await database.drop();
  await server.stop();
}
