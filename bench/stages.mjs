// npm run bench:stages: the record as an outside client sees it, and where its time goes, in builds
// of this project side by side (docs/benchmarks.md "The record stage by stage"). Each build
// (STAGES_VERSIONS, default e2b60bd, and this checkout; bench/builds.mjs builds a commit from git;
// STAGES_VERSIONS=none skips the run) runs on a fresh database of the same server with 1,000 users,
// metering by the users themselves (METERING_TRUST=users: each user's JWT records its own usage, one
// credit a record). A plain load generator (autocannon, 32 connections) sends the record for 200 and
// for 1,000 users, for the same 200 users with a fresh eventId and with a fresh Idempotency-Key each
// and from one connection alone (one record after another), for the members of 5 organisations of 40
// (each member's JWT naming its organisation, on builds that have organisations) and the streaming
// pair (an admin's JWT naming the user), on builds that have the gateway a non-streamed chat completion
// through it to a stand-in on 127.0.0.1 by the 200 users' own keys and by one user's key (32 at once on
// one account), the balance and the credits check by users' own JWTs, and, on builds that have features,
// the entitlement check of a boolean feature and of a metered one consuming one use
// (bench/features.mjs; STAGES_SCENARIOS names a few); every scenario runs build after build, A B C in odd rounds and C B A in even ones, after a
// first round that fills each database. Per window: the rate, the service's Node CPU per request (its process.cpuUsage()), the
// CPU of the database backends serving it, and, from PostgreSQL's per-database function statistics
// (track_functions = 'all' set on the bench database only: the server's configuration is not
// touched), each SQL function's own time per request and the rows written per request. pgbench TPC-B
// at scale 10 with the same 32 clients is measured before and after, on the same server. The Targets
// line closes the run, with the gateway's money (every session settled once, within its hold).
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

import autocannon from 'autocannon';
import pg from 'pg';

import { buildOf, commitOf } from './builds.mjs';
import {
  gatewayEnvironment,
  gatewayKeys,
  gatewayMoney,
  nonStreamedStandIn,
  REQUEST,
  settledOnce,
} from './gateway-answer.mjs';
import {
  accessToken,
  freshDatabase,
  hasPgbench,
  log,
  pgbench,
  ROOT,
  startServer,
  startService,
  statisticsNow,
  tpsOf,
  userIds,
} from './lib.mjs';
import { failures, withCpu, withDatabaseCpu } from './measure.mjs';
import { runPairs } from './pair.mjs';

const refs = (process.env.STAGES_VERSIONS ?? 'e2b60bd').split(',').filter((r) => r && r !== 'none');
if (refs.length === 0) {
  log('STAGES_VERSIONS=none: the stages run is skipped');
  process.exit(0);
}
const CONNECTIONS = 32;
const DURATION = Number(process.env.BENCH_DURATION ?? 10);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const USERS = 1000;
const ORG = 'record, org members';
const PAIR = 'streaming pair';
const BALANCE = 'balance';
const CHECK = 'check';
const FEATURE = 'entitlement check';
const CONSUME = 'entitlement check, consuming 1';
const EVENT = 'record, fresh eventId';
const IDEMPOTENT = 'record, fresh Idempotency-Key';
/** One client, one record after another: what a record alone waits for (its p50 printed beside the table). */
const ALONE = 'record, one connection';
/** The plain record, the one the keyed records and the record alone are set beside. */
const PLAIN = 'record, 200 users';
/** A non-streamed chat completion through the gateway, by one of the 200 users' own keys each, to a stand-in. */
const GATEWAY = 'gateway, 200 users';
/** The same through one key of one user, 32 at once: one account's requests together. */
const GATEWAY_ONE = 'gateway, one account';
const ALL = [
  PLAIN,
  'record, 1,000 users',
  EVENT,
  IDEMPOTENT,
  ALONE,
  ORG,
  PAIR,
  GATEWAY,
  GATEWAY_ONE,
  BALANCE,
  CHECK,
  FEATURE,
  CONSUME,
];
/**
 * The scenarios sent for 200 users: the plain record's, and the records set beside it (a keyed record
 * ÷ the plain record), so a ratio compares records of one population, not 200 users' with 1,000's.
 */
const AMONG_200 = new Set([PLAIN, EVENT, IDEMPOTENT, ALONE, GATEWAY]);
// STAGES_SCENARIOS='<a>;<b>': only these (the names above, separated by ';'); all by default.
const SCENARIOS = process.env.STAGES_SCENARIOS
  ? process.env.STAGES_SCENARIOS.split(';').map((name) => {
      if (!ALL.includes(name)) throw new Error(`STAGES_SCENARIOS: unknown ${name}, one of ${ALL.join('; ')}`);
      return name;
    })
  : ALL;
/** Scenarios a build has only where it has features (bench/features.mjs): the entitlement checks. */
const FEATURES = new Set([FEATURE, CONSUME]);
/** Scenarios a build has only where it has the gateway (src/gateway). */
const GATEWAYS = new Set([GATEWAY, GATEWAY_ONE]);
const TARGET_ORG = 0.9;
const TARGET_FEATURE = 0.9;
/** This checkout's rate ÷ the first build's: 1.0 unless named here. */
const TARGET_OLDER = { [PLAIN]: 2, [EVENT]: 2, [IDEMPOTENT]: 2, [PAIR]: 2 };
/** The plain record's rate ÷ pgbench TPC-B's. */
const TARGET_TPCB = 0.9;
/** A keyed record's rate ÷ the plain record's (200 users each). */
const TARGET_KEYED = { [EVENT]: 0.9, [IDEMPOTENT]: 0.8 };
/** The gateway's requests a second ÷ the streaming pair's (a gateway request is a pair inside the service). */
const TARGET_GATEWAY = 0.8;
/** One account's gateway requests a second, 32 at once. */
const TARGET_GATEWAY_ONE = 1000;

const ids = userIds(USERS);
const tokens = ids.map((id) => `Bearer ${accessToken(id)}`);
const meter = `Bearer ${accessToken('bench-meter', 'admin')}`;
const pick = (xs, n = xs.length) => xs[Math.floor(Math.random() * n)];
const RECORD = { service: 'bench', operation: 'op', credits: 1 };
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;

const versions = [
  ...refs.map((ref) => ({ label: ref, commit: commitOf(ref), root: buildOf(ref) })),
  { label: 'this checkout', commit: commitOf('HEAD'), root: ROOT },
];

const server = await startServer();
const standIn = await nonStreamedStandIn();
const gatewayRequest = JSON.parse(REQUEST);
const scratch = await freshDatabase(server.url, 'accounting_stages_pgbench');
const tpcb = [];
const tpcbNow = () => {
  if (!hasPgbench()) return;
  log('pgbench TPC-B, scale 10 ...');
  tpcb.push(tpsOf(pgbench(['-c', String(CONNECTIONS), '-j', '2', '-T', String(DURATION), scratch.url])));
};
try {
  if (hasPgbench()) pgbench(['-i', '-q', '-s', '10', scratch.url]);
  tpcbNow();
  for (const v of versions) await prepare(v);
  for (let round = 0; round <= ROUNDS; round++) {
    for (const scenario of SCENARIOS) {
      for (const v of round % 2 ? versions : [...versions].reverse()) {
        if (
          (scenario === ORG && v.members.length === 0) ||
          (FEATURES.has(scenario) && !v.features) ||
          (GATEWAYS.has(scenario) && !v.gatewayKeys)
        )
          continue;
        log(`${scenario}, ${round === 0 ? 'filling' : `round ${round}`}: ${v.label} ...`);
        const window = await measure(v, scenario);
        // The first pass fills every database (and warms every plan): it is not counted.
        if (round > 0) (v.results[scenario] ??= []).push(window);
      }
    }
  }
  tpcbNow();
  await new Promise((resolve) => setTimeout(resolve, 11_000));
  for (const v of versions) await settle(v);
  for (const v of versions) if (v.gatewayKeys) v.gatewayMoney = await gatewayMoney(v.pool);
} finally {
  for (const v of versions) {
    await v.pool?.end();
    await v.service?.stop();
    await v.database?.drop();
  }
  await scratch.drop();
  await server.stop();
  standIn.close();
}
print();

/** A build's database (function statistics on), service, users and warmed-up routes. */
async function prepare(v) {
  v.database = await freshDatabase(server.url, 'accounting_stages');
  const admin = new pg.Client({ connectionString: server.url });
  await admin.connect();
  // STAGES_TRACK_FUNCTIONS=off: no function statistics (each call of a PL/pgSQL function then costs
  // no timing of its own: the rates as a plain client sees them, the per-function table empty).
  if (process.env.STAGES_TRACK_FUNCTIONS !== 'off') {
    await admin.query(`ALTER DATABASE ${v.database.name} SET track_functions = 'all'`);
  }
  await admin.end();
  v.service = await startService(
    v.database.url,
    {
      NODE_ENV: 'test',
      METERING_TRUST: 'users',
      SWAGGER_ENABLED: 'false',
      LOG_FORMAT: 'json',
      ...gatewayEnvironment(standIn.upstream),
    },
    { root: v.root },
  );
  v.pool = new pg.Pool({ connectionString: v.database.url, max: 2 });
  const own = await import(pathToFileURL(path.join(v.root, 'bench/lib.mjs')).href);
  await own.seedUsers(v.pool, USERS, 1_000_000_000);
  // 5 organisations of 40 members, where the build has organisations (bench/orgs.mjs). Each member
  // holds its token, as each user does (tokens above): a token signed for every request cost the
  // client (in this process) more CPU than the request it sends.
  const orgs = path.join(v.root, 'bench/orgs.mjs');
  const members = existsSync(orgs)
    ? await (await import(pathToFileURL(orgs).href)).seedOrgs(v.pool, { orgs: 5, members: 40, credits: 2_000_000_000 })
    : [];
  v.members = members.map((m) => ({ ...m, auth: `Bearer ${accessToken(m.userId)}` }));
  // A boolean and a metered feature granted to every user, where the build has features.
  const features = path.join(v.root, 'bench/features.mjs');
  if (existsSync(features)) {
    const own = await import(pathToFileURL(features).href);
    await own.seedFeatures(v.service, v.pool, meter);
    v.features = own.FEATURE_KEYS;
  }
  // A key with the gateway scope for each of the 200 users, where the build has the gateway.
  if (existsSync(path.join(v.root, 'src/gateway'))) {
    v.gatewayKeys = (await gatewayKeys(v.service.base, meter, tokens.slice(0, 200))).map((key) => `Bearer ${key}`);
  }
  v.results = {};
}

/**
 * Each function's own time (µs) and the rows written, summed over the database so far. A backend
 * sends its statistics at the end of a transaction at most once a second, and the rest once it has
 * been idle for 10 s: so a window's figures are read at the build's next window (the other builds'
 * windows in between, while this one is idle), and after the last round once every build has been
 * idle for longer than that.
 */
async function counters(pool) {
  const { rows: functions } = await pool.query(
    'SELECT funcname AS name, self_time * 1000 AS micros, calls FROM pg_stat_user_functions',
  );
  const { rows: tables } = await pool.query(
    `SELECT relname AS name, n_tup_ins + n_tup_upd + n_tup_del AS rows FROM pg_stat_user_tables`,
  );
  return { functions, tables };
}

/** The statistics since `v`'s last window assigned to that window, per request. */
async function settle(v) {
  const now = await counters(v.pool);
  if (v.open) Object.assign(v.open.window, perRequest(v.last, now, v.open.n));
  v.last = now;
  v.open = null;
}

/** What each function and table moved between two `counters`, per request. */
function perRequest(before, after, n) {
  const delta = (key, value) => {
    const was = new Map(before[key].map((r) => [r.name, Number(r[value])]));
    return Object.fromEntries(
      after[key].map((r) => [r.name, (Number(r[value]) - (was.get(r.name) ?? 0)) / n]).filter(([, x]) => x > 0),
    );
  };
  return { functions: delta('functions', 'micros'), rows: delta('tables', 'rows') };
}

/** One window of `scenario` on build `v`. */
async function measure(v, scenario) {
  await statisticsNow(v.pool);
  await settle(v);
  const { result, cpuMicros: dbMicros } = await withDatabaseCpu(v.pool, async () => {
    if (scenario === PAIR) {
      const s = await runPairs(v.service, meter, () => pick(ids), CONNECTIONS, DURATION);
      return { rate: s.pairsPerSecond, n: s.pairs, cpuMicros: s.cpuMicros, failed: s.failed };
    }
    const users = AMONG_200.has(scenario) ? 200 : USERS;
    // A member records with its own JWT, charging its organisation; every other request is a random
    // user's own, on its own account.
    const own = (method, route, body) => () => ({ method, route, auth: pick(tokens, users), body });
    const request =
      {
        [ORG]: () => {
          const m = pick(v.members);
          return { auth: m.auth, body: { orgId: m.orgId, ...RECORD } };
        },
        // A chat backend's exactly-once record: a fresh id each, by the body's eventId or the header.
        [EVENT]: () => ({ auth: pick(tokens, users), body: { ...RECORD, eventId: randomUUID() } }),
        [IDEMPOTENT]: () => ({ auth: pick(tokens, users), body: RECORD, headers: { 'idempotency-key': randomUUID() } }),
        [BALANCE]: own('GET', '/api/credits/balance'),
        [CHECK]: own('POST', '/api/credits/check', { credits: 1 }),
        [FEATURE]: own('POST', '/api/entitlements/check', { featureKey: v.features?.flag }),
        [CONSUME]: own('POST', '/api/entitlements/check', { featureKey: v.features?.metered, consume: 1 }),
        [GATEWAY]: () => ({ route: '/v1/chat/completions', auth: pick(v.gatewayKeys, users), body: gatewayRequest }),
        [GATEWAY_ONE]: () => ({ route: '/v1/chat/completions', auth: v.gatewayKeys[0], body: gatewayRequest }),
      }[scenario] ?? own('POST', '/api/usage/record', RECORD);
    const { result: r, cpuMicros } = await withCpu(v.service, () =>
      autocannon({
        url: v.service.base,
        connections: scenario === ALONE ? 1 : CONNECTIONS,
        duration: DURATION,
        requests: [
          {
            setupRequest: (req) => {
              const r = request();
              return {
                ...req,
                method: r.method ?? 'POST',
                path: r.route ?? '/api/usage/record',
                headers: {
                  ...(r.body ? { 'content-type': 'application/json' } : {}),
                  ...r.headers,
                  authorization: r.auth,
                },
                body: r.body ? JSON.stringify(r.body) : undefined,
              };
            },
          },
        ],
      }),
    );
    return { rate: r.requests.average, n: r.requests.total, cpuMicros, failed: failures(r), p50: r.latency.p50 };
  });
  const n = Math.max(result.n, 1);
  const window = {
    rate: result.rate,
    p50: result.p50 ?? null,
    failed: result.failed,
    nodeMicros: result.cpuMicros / n,
    dbMicros: dbMicros / n,
    functions: {},
    rows: {},
  };
  v.open = { window, n };
  return window;
}

function print() {
  const fmt = (x) => Math.round(x).toLocaleString('en-US');
  const tpcbMean = tpcb.length ? mean(tpcb) : null;
  const older = versions[0];
  console.log(
    `\nThe record stage by stage (${ROUNDS} rounds of ${DURATION} s, ${CONNECTIONS} connections; ` +
      `pgbench TPC-B scale 10: ${tpcb.map(fmt).join(' / ') || 'not measured'} tps)\n`,
  );
  console.log('| scenario | build | rate (windows) | × first build | × TPC-B | Node CPU | database CPU | failed |');
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
  const rate = (v, s) => (v.results[s] ? mean(v.results[s].map((w) => w.rate)) : NaN);
  const measured = (s) => versions.filter((v) => v.results[s]);
  const first = (s) => measured(s)[0];
  for (const s of SCENARIOS) {
    for (const v of measured(s)) {
      const w = v.results[s];
      console.log(
        `| ${s} | ${v.label} (${v.commit.slice(0, 7)}) | ${fmt(rate(v, s))} (${w.map((x) => fmt(x.rate)).join('/')}) | ` +
          `${(rate(v, s) / rate(first(s), s)).toFixed(2)}× | ${tpcbMean ? `${(rate(v, s) / tpcbMean).toFixed(2)}×` : '—'} | ` +
          `${fmt(mean(w.map((x) => x.nodeMicros)))} µs | ${fmt(mean(w.map((x) => x.dbMicros)))} µs | ` +
          `${w.reduce((a, x) => a + x.failed, 0)} |`,
      );
    }
  }
  if (SCENARIOS.includes(ALONE))
    console.log(
      `\n${ALONE}, p50 of the windows: ` +
        measured(ALONE)
          .map((v) => `${v.label} ${v.results[ALONE].map((w) => `${w.p50} ms`).join('/')}`)
          .join('; '),
    );
  for (const s of SCENARIOS) {
    console.log(
      `\n${s}: each SQL function's own time (wall clock: lock waits and time off the CPU included) and the rows written, per request (mean of the windows)\n`,
    );
    const names = (key) => [...new Set(measured(s).flatMap((v) => v.results[s].flatMap((w) => Object.keys(w[key]))))];
    console.log(
      `| | ${measured(s)
        .map((v) => v.label)
        .join(' | ')} |`,
    );
    console.log(
      `| --- | ${measured(s)
        .map(() => '---')
        .join(' | ')} |`,
    );
    const cell = (v, key, name, unit) => {
      const x = mean(v.results[s].map((w) => w[key][name] ?? 0));
      return x ? `${unit === 'µs' ? fmt(x) : x.toFixed(2)}${unit === 'µs' ? ' µs' : ''}` : '—';
    };
    for (const name of names('functions').sort()) {
      console.log(
        `| ${name}() | ${measured(s)
          .map((v) => cell(v, 'functions', name, 'µs'))
          .join(' | ')} |`,
      );
    }
    for (const name of names('rows').sort()) {
      console.log(
        `| rows of ${name} | ${measured(s)
          .map((v) => cell(v, 'rows', name, 'rows'))
          .join(' | ')} |`,
      );
    }
  }
  for (const v of versions.filter((x) => x.gatewayMoney)) {
    console.log(`\nThe gateway's money, ${v.label}: ${JSON.stringify(v.gatewayMoney)}`);
  }
  const current = versions.at(-1);
  const has = (...names) => names.every((name) => current.results[name]);
  const [user200, user1000] = ALL;
  const p50 = (v) => mean(v.results[ALONE].map((w) => w.p50));
  const checks = [
    ...SCENARIOS.filter((s) => s !== ORG && !FEATURES.has(s) && !GATEWAYS.has(s) && older.results[s]).map((s) => {
      const target = TARGET_OLDER[s] ?? 1.0;
      return [`${s} ≥ ${target}× ${older.label}`, rate(current, s) / rate(older, s) >= target];
    }),
    ...(has(ALONE) && older.results[ALONE] ? [[`${ALONE}: p50 ≤ ${older.label}'s`, p50(current) <= p50(older)]] : []),
    ...(has(ORG, user200)
      ? [[`${ORG} ≥ ${TARGET_ORG}× a user's`, rate(current, ORG) / rate(current, user200) >= TARGET_ORG]]
      : []),
    ...(has(FEATURE, BALANCE)
      ? [[`${FEATURE} ≥ ${TARGET_FEATURE}× balance`, rate(current, FEATURE) / rate(current, BALANCE) >= TARGET_FEATURE]]
      : []),
    ...(has(CONSUME, user1000)
      ? [
          [
            `${CONSUME} ≥ ${TARGET_FEATURE}× a record`,
            rate(current, CONSUME) / rate(current, user1000) >= TARGET_FEATURE,
          ],
        ]
      : []),
    ...Object.entries(TARGET_KEYED)
      .filter(([s]) => has(s, user200))
      .map(([s, target]) => [`${s} ≥ ${target}× ${user200}`, rate(current, s) / rate(current, user200) >= target]),
    ...(tpcbMean && has(user200)
      ? [[`${user200} ≥ ${TARGET_TPCB}× TPC-B`, rate(current, user200) / tpcbMean >= TARGET_TPCB]]
      : []),
    ...(has(GATEWAY, PAIR)
      ? [[`${GATEWAY} ≥ ${TARGET_GATEWAY}× ${PAIR}`, rate(current, GATEWAY) / rate(current, PAIR) >= TARGET_GATEWAY]]
      : []),
    ...(has(GATEWAY_ONE)
      ? [[`${GATEWAY_ONE} ≥ ${TARGET_GATEWAY_ONE}/s`, rate(current, GATEWAY_ONE) >= TARGET_GATEWAY_ONE]]
      : []),
    ...versions
      .filter((v) => v.gatewayMoney)
      .map((v) => [`${v.label}: every gateway session settled once, within its hold`, settledOnce(v.gatewayMoney)]),
    ['0 failed', versions.every((v) => SCENARIOS.every((s) => (v.results[s] ?? []).every((w) => w.failed === 0)))],
  ];
  console.log(`\nTargets: ${checks.map(([name, met]) => `${name}: ${met ? 'met' : 'NOT met'}`).join('; ')}`);
}
