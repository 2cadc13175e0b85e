// npm run bench:dimensions-versions: the record route of the build before service tiers and units
// (BENCH_BEFORE, default c9da749, the parent of the commit that added them; a commit, built from git by
// bench/builds.mjs, or the path of a folder built already) against this checkout's record without and
// with a tier and units (bench/dimensions.mjs), in one run: both services started side by side, each on
// a fresh database of the same server seeded by its own bench helpers (1,000 users), and in each of
// BENCH_ROUNDS rounds (default 8) one window of BENCH_DURATION / 2 seconds (default 5) a side, the
// order A B C in odd rounds and C B A in even ones, so a shared machine's drift falls on every side
// alike. The build before refuses tiers and units, so its side records the same tokens without them,
// under a rule with the same token prices. Prints each side's rate and Node CPU per request and their
// ratios to the build before. BENCH_DIMENSIONS_JSON=<file> keeps the windows' figures;
// BENCH_READY_SECONDS (default 300) is how long each service may take to migrate and start,
// BENCH_WARMUP_SECONDS (default 5) the warm-up of each side.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

import pg from 'pg';

import { buildOf, commitOf } from './builds.mjs';
import { createDimensionsRule, DIMENSION_BODIES, DIMENSIONS_MODEL } from './dimensions.mjs';
import { accessToken, freshDatabase, log, postLoad, ROOT, startServer, startService, userIds } from './lib.mjs';
import { combinedRow, withCpu } from './measure.mjs';

const USERS = 1000;
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const WINDOW = Math.max(1, Math.round(Number(process.env.BENCH_DURATION ?? 10) / 2));
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 8);
const BEFORE = process.env.BENCH_BEFORE ?? 'c9da749';
// A fresh database runs every migration at start-up: on a loaded machine that takes past a minute.
const READY_MS = Number(process.env.BENCH_READY_SECONDS ?? 300) * 1000;
// Seconds of warm-up a side before the rounds (the JIT's, the pools'): longer on a loaded machine.
const WARMUP = Number(process.env.BENCH_WARMUP_SECONDS ?? 5);

const meter = `Bearer ${accessToken('bench-meter', 'admin')}`;
const ids = userIds(USERS);

/** The token prices of the bench rule, without tiers and units: what the build before accepts. */
async function createTokensRule(base) {
  const res = await fetch(`${base}/api/pricing`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: meter },
    body: JSON.stringify({ modelId: DIMENSIONS_MODEL, pricePer1kTokens: '2.5', outputPricePer1kTokens: '10' }),
  });
  if (res.status !== 201) throw new Error(`bench tokens rule: ${res.status} ${await res.text()}`);
}

/** Record requests with `body` for random users on `service`, for `duration` seconds. */
const run = (service, body, duration) =>
  postLoad({
    base: service.base,
    connections: CONNECTIONS,
    duration,
    authorization: meter,
    body: () => ({ userId: ids[Math.floor(Math.random() * ids.length)], ...body }),
  });

const builds = [
  { label: `before (${BEFORE})`, commit: commitOf(BEFORE), root: buildOf(BEFORE), rule: createTokensRule },
  { label: 'this checkout', commit: commitOf('HEAD'), root: ROOT, rule: (base) => createDimensionsRule(base, meter) },
];
const [before, current] = builds;
const sides = [
  { label: `${before.commit.slice(0, 7)} tokens only`, build: before, body: DIMENSION_BODIES.plain },
  { label: `${current.commit.slice(0, 7)} tokens only`, build: current, body: DIMENSION_BODIES.plain },
  {
    label: `${current.commit.slice(0, 7)} at flex, 2 searches, 1 image`,
    build: current,
    body: DIMENSION_BODIES.dimensions,
  },
];

const server = await startServer();
log(`database server: ${server.kind}`);
try {
  for (const b of builds) {
    b.database = await freshDatabase(server.url, 'accounting_dimensions_versions');
    b.service = await startService(
      b.database.url,
      { NODE_ENV: 'test', PRICING_STRICT: 'true', SWAGGER_ENABLED: 'false', LOG_FORMAT: 'json' },
      { root: b.root, readyWithinMs: READY_MS },
    );
    b.pool = new pg.Pool({ connectionString: b.database.url, max: 2 });
    // Each build's own seeding: its schema is its own.
    const own = await import(pathToFileURL(path.join(b.root, 'bench/lib.mjs')).href);
    await own.seedUsers(b.pool, USERS, 1_000_000_000);
    await b.rule(b.service.base);
  }
  log('warming up...');
  for (const s of sides) await run(s.build.service, s.body, WARMUP);
  for (const s of sides) s.windows = [];
  log(`${ROUNDS} rounds of ${WINDOW} s a side, A B C then C B A...`);
  for (let round = 1; round <= ROUNDS; round++) {
    for (const s of round % 2 ? sides : [...sides].reverse()) {
      s.windows.push(await withCpu(s.build.service, () => run(s.build.service, s.body, WINDOW)));
    }
  }
} finally {
  for (const b of builds) {
    await b.pool?.end();
    await b.service?.stop();
    await b.database?.drop();
  }
  await server.stop();
}

const rows = sides.map((s) => combinedRow(s.label, s.windows));
console.table(rows);
const requests = (s) => s.windows.reduce((sum, w) => sum + w.result.requests.total, 0);
const base = sides[0];
for (const [i, s] of sides.entries()) {
  if (i === 0) continue;
  const perRound = s.windows.map((w, r) =>
    (w.result.requests.total / base.windows[r].result.requests.total).toFixed(3),
  );
  console.log(
    `${s.label} ÷ ${base.label}: ${(requests(s) / requests(base)).toFixed(3)} by requests ` +
      `(per round ${perRound.join(', ')}), ${(rows[i]['CPU µs/req'] / rows[0]['CPU µs/req']).toFixed(3)} by Node CPU per request`,
  );
}
if (process.env.BENCH_DIMENSIONS_JSON) {
  const figures = sides.map((s, i) => ({
    label: s.label,
    commit: s.build.commit,
    row: rows[i],
    windows: s.windows.map((w) => ({ requests: w.result.requests.total, cpuMicros: w.cpuMicros })),
  }));
  writeFileSync(
    process.env.BENCH_DIMENSIONS_JSON,
    JSON.stringify({ connections: CONNECTIONS, window: WINDOW, figures }, null, 2),
  );
}
