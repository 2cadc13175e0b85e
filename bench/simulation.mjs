// node bench/simulation.mjs (after npm run build): the simulation scenario of npm run bench alone, on a
// fresh database: 1,000,000 records, one POST /api/pricing/simulations, its time (target under 5 s).
// BENCH_SIMULATION_VOLUME=graduated|volume: then the same simulation of a rule with volume steps too,
// after the one without, A B interleaved BENCH_SIMULATION_ROUNDS times (default 1).
import pg from 'pg';

import { accessToken, freshDatabase, log, seedUsers, startServer, startService } from './lib.mjs';
import { seedAccountPrices, seedRecords, simulate } from './pricing.mjs';

const RECORDS = Number(process.env.BENCH_SIMULATION_RECORDS ?? 1_000_000);
const server = await startServer();
const database = await freshDatabase(server.url, 'accounting_bench_sim');
const service = await startService(database.url, { NODE_ENV: 'test', PRICING_STRICT: 'true', LOG_FORMAT: 'json' });
const db = new pg.Pool({ connectionString: database.url, max: 2 });
try {
  const admin = `Bearer ${accessToken('bench-admin', 'admin')}`;
  await seedUsers(db, 1000, 0);
  await seedAccountPrices(service, db, admin);
  log(`seeding ${RECORDS} records...`);
  await seedRecords(db, RECORDS, 1000);
  const volume = process.env.BENCH_SIMULATION_VOLUME;
  for (let round = 0; round < Number(process.env.BENCH_SIMULATION_ROUNDS ?? 1); round++) {
    for (const steps of volume ? [undefined, volume] : [undefined]) {
      const result = await simulate(service, admin, steps);
      const what = steps ? `at ${steps} steps` : 'without steps';
      console.log(
        `simulation ${what} over ${result.records} records: ${result.seconds.toFixed(2)} s (${result.rows} days)`,
      );
    }
  }
} finally {
  await db.end();
  await service.stop();
  await database.drop();
  await server.stop();
}
