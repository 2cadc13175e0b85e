// node bench/dimensions-run.mjs (after npm run build; npm run bench:dimensions builds first): the
// record route of npm run bench with a service tier and units against the same record without them
// (bench/dimensions.mjs), alone on a fresh database with 1,000 users, in BENCH_ROUNDS interleaved
// rounds (default 8) of BENCH_DURATION / 2 seconds each (default 5).
import pg from 'pg';

import { createDimensionsRule, DIMENSION_BODIES, dimensionRounds, dimensionSummary } from './dimensions.mjs';
import { accessToken, freshDatabase, log, postLoad, seedUsers, startServer, startService, userIds } from './lib.mjs';
import { combinedRow, withCpu } from './measure.mjs';

const USERS = 1000;
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const WINDOW = Math.max(1, Math.round(Number(process.env.BENCH_DURATION ?? 10) / 2));
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 8);

const server = await startServer();
const database = await freshDatabase(server.url, 'accounting_bench_dimensions');
const service = await startService(database.url, { NODE_ENV: 'test', PRICING_STRICT: 'true', LOG_FORMAT: 'json' });
const db = new pg.Pool({ connectionString: database.url, max: 2 });
const meter = `Bearer ${accessToken('bench-meter', 'admin')}`;
const ids = userIds(USERS);

/** Record requests with `body` for random users. */
const run = (body, duration) =>
  postLoad({
    base: service.base,
    connections: CONNECTIONS,
    duration,
    authorization: meter,
    body: () => ({ userId: ids[Math.floor(Math.random() * ids.length)], ...body }),
  });

try {
  await seedUsers(db, USERS, 1_000_000_000);
  await createDimensionsRule(service.base, meter);
  log('warming up...');
  await run(DIMENSION_BODIES.plain, 2);
  await run(DIMENSION_BODIES.dimensions, 2);
  log(`${ROUNDS} interleaved rounds of ${WINDOW} s a side...`);
  const rounds = await dimensionRounds((body) => withCpu(service, () => run(body, WINDOW)), ROUNDS);
  const plain = combinedRow('POST /api/usage/record (tokens only, rounds)', rounds.plain);
  const dimensions = combinedRow('POST /api/usage/record (tier and units, rounds)', rounds.dimensions);
  console.table([plain, dimensions]);
  const { requestRatio, cpuRatio } = dimensionSummary(rounds, plain, dimensions);
  const perRound = rounds.plain.map((p, i) =>
    (rounds.dimensions[i].result.requests.total / p.result.requests.total).toFixed(3),
  );
  console.log(
    `tier and units / tokens only: ${requestRatio.toFixed(3)} by requests (per round ${perRound.join(', ')}), ` +
      `${cpuRatio.toFixed(3)} by Node CPU per request`,
  );
} finally {
  await db.end();
  await service.stop();
  await database.drop();
  await server.stop();
}
