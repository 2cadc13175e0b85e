// node bench/features-run.mjs (after npm run build; npm run bench:features builds first): the
// feature checks of npm run bench (bench/features.mjs) beside balance and record, alone on a fresh
// database with 1,000 users, in BENCH_ROUNDS interleaved rounds (default 4) of BENCH_DURATION / 2
// seconds a scenario (default 5): balance, check, check of a metered feature, record, consuming check.
// Targets: a check without consumption ≥ 0.9× balance, a consuming check ≥ 0.9× record.
import { loadavg } from 'node:os';

import autocannon from 'autocannon';
import pg from 'pg';

import { featureScenarios, seedFeatures } from './features.mjs';
import { accessToken, freshDatabase, log, seedUsers, startServer, startService, userIds } from './lib.mjs';
import { combinedRow, withCpu } from './measure.mjs';
import { SCENARIO } from './report.mjs';

const USERS = 1000;
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const WINDOW = Math.max(1, Math.round(Number(process.env.BENCH_DURATION ?? 10) / 2));
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 4);

const server = await startServer();
const database = await freshDatabase(server.url, 'accounting_bench_features');
const service = await startService(database.url, { NODE_ENV: 'test', PRICING_STRICT: 'true', LOG_FORMAT: 'json' });
const db = new pg.Pool({ connectionString: database.url, max: 2 });
const meter = `Bearer ${accessToken('bench-meter', 'admin')}`;
const ids = userIds(USERS);
const tokens = ids.map((id) => `Bearer ${accessToken(id)}`);
const random = () => tokens[Math.floor(Math.random() * tokens.length)];

const [check, checkMetered, consume] = featureScenarios(random);
const scenarios = [
  { name: SCENARIO.balance, method: 'GET', path: '/api/credits/balance', auth: random },
  check,
  checkMetered,
  {
    name: SCENARIO.record,
    method: 'POST',
    path: '/api/usage/record',
    body: () => ({
      userId: ids[Math.floor(Math.random() * ids.length)],
      service: 'bench',
      operation: 'op',
      credits: 1,
    }),
    auth: () => meter,
  },
  consume,
];

const run = (scenario, duration) =>
  autocannon({
    url: service.base,
    connections: CONNECTIONS,
    duration,
    requests: [
      {
        method: scenario.method,
        path: scenario.path,
        setupRequest: (req) => ({
          ...req,
          headers: {
            ...(scenario.body ? { 'content-type': 'application/json' } : {}),
            authorization: scenario.auth(),
          },
          body: scenario.body
            ? JSON.stringify(typeof scenario.body === 'function' ? scenario.body() : scenario.body)
            : undefined,
        }),
      },
    ],
  });

try {
  await seedUsers(db, USERS, 1_000_000_000);
  await seedFeatures(service, db, meter);
  log('warming up...');
  for (const t of tokens) await fetch(`${service.base}/api/credits/balance`, { headers: { authorization: t } });
  for (const s of scenarios) await run(s, 2);
  log(
    `${ROUNDS} interleaved rounds of ${WINDOW} s a scenario (load average ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')})...`,
  );
  const windows = new Map(scenarios.map((s) => [s.name, []]));
  for (let round = 0; round < ROUNDS; round += 1) {
    for (const s of scenarios) windows.get(s.name).push(await withCpu(service, () => run(s, WINDOW)));
  }
  const rows = scenarios.map((s) => combinedRow(s.name, windows.get(s.name)));
  console.table(rows);
  const rate = (name) => rows.find((r) => r.scenario === name)['req/s'];
  console.log(
    `check / balance: ${(rate(check.name) / rate(SCENARIO.balance)).toFixed(3)} (metered, no consume: ` +
      `${(rate(checkMetered.name) / rate(SCENARIO.balance)).toFixed(3)}; target ≥ 0.9); ` +
      `consuming check / record: ${(rate(consume.name) / rate(SCENARIO.record)).toFixed(3)} (target ≥ 0.9); ` +
      `load average after: ${loadavg()
        .map((x) => x.toFixed(2))
        .join(' ')}`,
  );
} finally {
  await db.end();
  await service.stop();
  await database.drop();
  await server.stop();
}
