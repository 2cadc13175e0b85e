// The versions run of npm run bench (after run.mjs): this checkout against earlier commits of the
// project (BENCH_VERSIONS, default e2b60bd and ea41367), each built from git in a
// folder of its own (bench/builds.mjs), on the same machine in one run. Every build runs on a fresh
// database of the same server, seeded by its own bench helpers (1,000 users, 5 organisations of 40
// members where the build has organisations), all started side by side; in each of BENCH_ROUNDS
// rounds every scenario is measured build after build (A B C, then C B A), so a shared machine's drift falls on
// every build alike, and on a build's scenarios alike. pgbench TPC-B, pgbench -S (the database's own read limit) and the batch's write floor
// (bench/floor-rows.mjs) are measured before and after the scenarios, their means compared with.
// BENCH_VERSIONS=none skips it; BENCH_VERSIONS_JSON=<file> writes the figures there.
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

import autocannon from 'autocannon';
import pg from 'pg';

import { runBatches } from './batch.mjs';
import { buildOf, commitOf } from './builds.mjs';
import { measureFloor } from './floor-rows.mjs';
import {
  accessToken,
  freshDatabase,
  hasPgbench,
  log,
  ROOT,
  seedUsers,
  selectOnly,
  startServer,
  startService,
  statisticsNow,
  tpcb,
  tpcbDatabase,
  userIds,
} from './lib.mjs';
import { failures, withCpu, withDatabaseCpu } from './measure.mjs';
import { runPairs } from './pair.mjs';
import { printVersions, VERSION_SCENARIO } from './versions-report.mjs';

const refs = (process.env.BENCH_VERSIONS ?? 'e2b60bd,ea41367').split(',').filter((r) => r && r !== 'none');
if (refs.length === 0) {
  log('BENCH_VERSIONS=none: the versions run is skipped');
  process.exit(0);
}
if (!hasPgbench()) throw new Error('the versions run needs pgbench (the PostgreSQL client tools)');

const USERS = 1000;
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const DURATION = Number(process.env.BENCH_DURATION ?? 10);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
// BENCH_SCENARIOS=balance,check: only these scenarios (VERSION_SCENARIO's keys); all by default.
const SCENARIOS = (process.env.BENCH_SCENARIOS ?? Object.keys(VERSION_SCENARIO).join(','))
  .split(',')
  .filter(Boolean)
  .map((key) => {
    if (!(key in VERSION_SCENARIO))
      throw new Error(`BENCH_SCENARIOS: unknown ${key}, one of ${Object.keys(VERSION_SCENARIO)}`);
    return VERSION_SCENARIO[key];
  });
const FLOOR_CLIENTS = 2;

const ids = userIds(USERS);
const tokens = ids.map((id) => `Bearer ${accessToken(id)}`);
// Metering is a service principal's (METERING_TRUST=service, every build's default): an admin's JWT.
const meter = `Bearer ${accessToken('bench-meter', 'admin')}`;
const recording = { method: 'POST', path: '/api/usage/record', auth: meter };
const op = { service: 'bench', operation: 'op', credits: 1 };
const pick = (xs) => xs[Math.floor(Math.random() * xs.length)];

const versions = [
  ...refs.map((ref) => ({ label: ref, commit: commitOf(ref), root: buildOf(ref) })),
  { label: 'this checkout', commit: commitOf('HEAD'), root: ROOT },
];

const server = await startServer();
log(`database server: ${server.kind}`);
const scratch = await tpcbDatabase(server.url, 'accounting_versions_pgbench');
const floorDb = await freshDatabase(server.url, 'accounting_versions_floor');
const figures = { connections: CONNECTIONS, duration: DURATION, rounds: ROUNDS, tpcb: [], selectOnly: [], floor: [] };
try {
  // The floor's database: this checkout's schema (what its batch writes), migrated by its own start.
  await (await startService(floorDb.url, { NODE_ENV: 'test' })).stop();
  const floorPool = new pg.Pool({ connectionString: floorDb.url, max: 1 });
  await seedUsers(floorPool, USERS, 1_000_000);
  await floorPool.end();
  const references = () => {
    figures.tpcb.push(tpcb(scratch.url, { connections: CONNECTIONS, duration: DURATION }));
    figures.selectOnly.push(selectOnly(scratch.url, { connections: CONNECTIONS, duration: DURATION }));
    figures.floor.push(measureFloor(floorDb.url, { users: USERS, clients: FLOOR_CLIENTS, duration: DURATION }));
  };
  references();

  for (const v of versions) await prepare(v);
  // Round after round, each scenario of every build: the builds of a scenario side by side, A B C in
  // odd rounds and C B A in even ones (a machine that speeds up or slows down over the run favours no
  // build: in a fixed order the last build always ran latest), and a build's scenarios too, so a
  // ratio within a build (an org member's record over a user's) compares windows a minute apart, not
  // a run's start with its end.
  for (let round = 1; round <= ROUNDS; round++) {
    for (const scenario of SCENARIOS) {
      for (const v of round % 2 ? versions : [...versions].reverse()) {
        if (scenario === VERSION_SCENARIO.recordOrg && v.orgMembers.length === 0) continue;
        log(`${scenario}, round ${round}: ${v.label} ...`);
        (v.results[scenario] ??= []).push(await measure(v, scenario, DURATION));
      }
    }
  }
  references();
} finally {
  for (const v of versions) {
    await v.pool?.end();
    await v.service?.stop();
    await v.database?.drop();
  }
  await floorDb.drop();
  await scratch.drop();
  await server.stop();
}

const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const report = {
  ...figures,
  tpcbMean: mean(figures.tpcb),
  selectOnlyMean: mean(figures.selectOnly),
  floorMean: mean(figures.floor),
  versions: versions.map((v) => ({ label: v.label, commit: v.commit, results: v.results })),
};
if (process.env.BENCH_VERSIONS_JSON) writeFileSync(process.env.BENCH_VERSIONS_JSON, JSON.stringify(report, null, 2));
printVersions(report);

/** A build's database, service, seeded users (and organisations) and warmed-up routes. */
async function prepare(v) {
  v.database = await freshDatabase(server.url, 'accounting_versions');
  // As run.mjs starts it: strict pricing, no Swagger UI, JSON logs, metering by a service principal.
  v.service = await startService(
    v.database.url,
    { NODE_ENV: 'test', PRICING_STRICT: 'true', SWAGGER_ENABLED: 'false', LOG_FORMAT: 'json' },
    { root: v.root },
  );
  v.pool = new pg.Pool({ connectionString: v.database.url, max: 2 });
  // Each build's own seeding (its schema is its own); organisations where the build has them.
  const own = await import(pathToFileURL(path.join(v.root, 'bench/lib.mjs')).href);
  await own.seedUsers(v.pool, USERS, 1_000_000);
  const orgs = path.join(v.root, 'bench/orgs.mjs');
  v.orgMembers = existsSync(orgs)
    ? await (await import(pathToFileURL(orgs).href)).seedOrgs(v.pool, { orgs: 5, members: 40, credits: 2_000_000_000 })
    : [];
  v.results = {};
  log(`warming up ${v.label} ...`);
  for (const id of ids) {
    await fetch(`${v.service.base}/api/credits/balance`, { headers: { authorization: `Bearer ${accessToken(id)}` } });
  }
  for (const scenario of SCENARIOS) {
    if (scenario === VERSION_SCENARIO.recordOrg && v.orgMembers.length === 0) continue;
    await measure(v, scenario, 2);
  }
}

/** One measured window of `scenario` on build `v`: its rate (per request, pair or event) and Node CPU. */
async function measure(v, scenario, duration) {
  await statisticsNow(v.pool);
  if (scenario === VERSION_SCENARIO.pair) {
    // The database's CPU too (BENCH_VERSIONS_JSON's dbCpuMicros): a pair is mostly the engine's statements.
    const { result: s, cpuMicros: db } = await withDatabaseCpu(v.pool, () =>
      runPairs(v.service, meter, () => pick(ids), CONNECTIONS, duration),
    );
    const per = (micros) => (s.pairs > 0 ? micros / s.pairs : null);
    return { rate: s.pairsPerSecond, cpuMicros: per(s.cpuMicros), dbCpuMicros: per(db), failed: s.failed };
  }
  if (scenario === VERSION_SCENARIO.batch) {
    const s = await runBatches(v.service, ids, duration, v.pool);
    return { rate: s.eventsPerSecond, cpuMicros: s.cpuMicrosPerEvent, failed: s.errors + s.notCreated };
  }
  const request = {
    [VERSION_SCENARIO.balance]: () => ({ method: 'GET', path: '/api/credits/balance', auth: pick(tokens) }),
    [VERSION_SCENARIO.check]: () => ({
      method: 'POST',
      path: '/api/credits/check',
      auth: pick(tokens),
      body: { credits: 1 },
    }),
    [VERSION_SCENARIO.record]: () => ({ ...recording, body: { userId: pick(ids), ...op } }),
    [VERSION_SCENARIO.hot]: () => ({ ...recording, body: { userId: ids[0], ...op } }),
    [VERSION_SCENARIO.recordOrg]: () => {
      const m = pick(v.orgMembers);
      return { ...recording, body: { userId: m.userId, orgId: m.orgId, ...op } };
    },
  }[scenario];
  const { result, cpuMicros } = await withCpu(v.service, () =>
    autocannon({
      url: v.service.base,
      connections: CONNECTIONS,
      duration,
      requests: [
        {
          setupRequest: (req) => {
            const r = request();
            return {
              ...req,
              method: r.method,
              path: r.path,
              headers: { ...(r.body ? { 'content-type': 'application/json' } : {}), authorization: r.auth },
              body: r.body ? JSON.stringify(r.body) : undefined,
            };
          },
        },
      ],
    }),
  );
  const total = result.requests.total;
  return { rate: result.requests.average, cpuMicros: total > 0 ? cpuMicros / total : null, failed: failures(result) };
}
