// node bench/account-prices.mjs (after npm run build; npm run bench:pricing runs it with the
// simulation): the record route of npm run bench priced for users with an account price in force
// (12.5 % off the bench model) against users without one, alone on a fresh database, in BENCH_ROUNDS
// interleaved rounds (default 8) of BENCH_DURATION / 2 seconds each, compared by summed requests and by
// the service's Node CPU per request, as npm run bench compares them.
import pg from 'pg';

import { accessToken, freshDatabase, log, postLoad, seedUsers, startServer, startService } from './lib.mjs';
import { combinedRow, withCpu } from './measure.mjs';
import { pricedRecord, seedAccountPrices } from './pricing.mjs';

const USERS = 1000;
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const WINDOW = Math.max(1, Math.round(Number(process.env.BENCH_DURATION ?? 10) / 2));
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 8);

const server = await startServer();
const database = await freshDatabase(server.url, 'accounting_bench_prices');
const service = await startService(database.url, { NODE_ENV: 'test', PRICING_STRICT: 'true', LOG_FORMAT: 'json' });
const db = new pg.Pool({ connectionString: database.url, max: 2 });

/** Record requests of the bench model for users with (`discounted`) or without an account price. */
const run = (discounted, duration) => {
  const body = pricedRecord(discounted, USERS);
  const meter = `Bearer ${accessToken('bench-meter', 'admin')}`;
  return postLoad({ base: service.base, connections: CONNECTIONS, duration, authorization: meter, body });
};

try {
  await seedUsers(db, USERS, 1_000_000_000);
  await seedAccountPrices(service, db, `Bearer ${accessToken('bench-admin', 'admin')}`);
  log('warming up...');
  await run(false, 2);
  await run(true, 2);
  const rounds = { without: [], with: [] };
  for (let i = 0; i < ROUNDS; i++) {
    log(`round ${i + 1} of ${ROUNDS}...`);
    rounds.without.push(await withCpu(service, () => run(false, WINDOW)));
    rounds.with.push(await withCpu(service, () => run(true, WINDOW)));
  }
  const without = combinedRow('POST /api/usage/record (priced, no account price)', rounds.without);
  const withPrice = combinedRow('POST /api/usage/record (priced, account price in force)', rounds.with);
  console.table([without, withPrice]);
  const summed = (windows) => windows.reduce((sum, w) => sum + w.result.requests.total, 0);
  const ratio = summed(rounds.with) / summed(rounds.without);
  console.log(
    `account price in force / none: ${ratio.toFixed(3)} by requests, ` +
      `${(withPrice['CPU µs/req'] / without['CPU µs/req']).toFixed(3)} by Node CPU per request`,
  );
} finally {
  await db.end();
  await service.stop();
  await database.drop();
  await server.stop();
}
