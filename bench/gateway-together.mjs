// npm run bench:gateway-together: one account's gateway requests, many at once (docs/benchmarks.md
// "One account's gateway requests together"). A provider stand-in in this process answers OpenAI chat
// completions at once (non-streamed, with usage); autocannon sends BENCH_GATEWAY_CONNECTIONS (32)
// requests at a time through the gateway with ONE key of ONE user, for BENCH_DURATION seconds a
// window, in builds side by side (GATEWAY_VERSIONS, default main, and this checkout; built from git
// as bench/builds.mjs does), A B in odd rounds and B A in even ones (BENCH_ROUNDS, default 4). Each
// window: requests/s, p50 and p99, and the service's and database's CPU a request. After the rounds,
// each build's money is checked: every session settled once (one record each, none left active),
// every settlement within its hold (the hold a bound: nothing overran, no shortfall).
import { loadavg } from 'node:os';

import autocannon from 'autocannon';
import pg from 'pg';

import { buildOf, commitOf } from './builds.mjs';
import { gatewayEnvironment, gatewayKeys, gatewayMoney, nonStreamedStandIn, REQUEST } from './gateway-answer.mjs';
import { accessToken, freshDatabase, log, ROOT, seedUsers, startServer, startService, statisticsNow } from './lib.mjs';
import { withCpu, withDatabaseCpu } from './measure.mjs';

const refs = (process.env.GATEWAY_VERSIONS ?? 'main').split(',').filter((r) => r && r !== 'none');
const CONNECTIONS = Number(process.env.BENCH_GATEWAY_CONNECTIONS ?? 32);
const DURATION = Number(process.env.BENCH_DURATION ?? 10);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 4);
const standIn = await nonStreamedStandIn();

const versions = [
  ...refs.map((ref) => ({ name: ref, commit: commitOf(ref).slice(0, 7), root: buildOf(ref) })),
  { name: 'this checkout', commit: commitOf('HEAD').slice(0, 7), root: ROOT },
];
const server = await startServer();
const load = () =>
  loadavg()
    .map((v) => v.toFixed(2))
    .join(' ');

/** A build's database, service, user, rule and gateway key. */
async function prepare(v) {
  v.database = await freshDatabase(server.url, 'accounting_gateway_together');
  v.service = await startService(
    v.database.url,
    { NODE_ENV: 'test', ...gatewayEnvironment(standIn.upstream), SWAGGER_ENABLED: 'false' },
    { root: v.root },
  );
  v.pool = new pg.Pool({ connectionString: v.database.url, max: 2 });
  await seedUsers(v.pool, 1, 1_000_000_000);
  [v.key] = await gatewayKeys(v.service.base, `Bearer ${accessToken('bench-admin', 'admin')}`, [
    `Bearer ${accessToken('bench-1')}`,
  ]);
  v.windows = [];
}

/** One window of CONNECTIONS requests at a time through the gateway, for `seconds`. */
function burst(v, seconds) {
  return autocannon({
    url: `${v.service.base}/v1/chat/completions`,
    method: 'POST',
    connections: CONNECTIONS,
    duration: seconds,
    headers: { authorization: `Bearer ${v.key}`, 'content-type': 'application/json' },
    body: REQUEST,
  });
}

async function measure(v) {
  // Every window from fresh statistics, as bench:stages takes them (docs/benchmarks.md "Statistics before every
  // window"): without them the first window ran on plans made while the tables were empty, the settlement
  // reading every ledger line of the account's lot, at about half the rate of the later windows.
  await statisticsNow(v.pool);
  const cpu = await withDatabaseCpu(v.pool, () => withCpu(v.service, () => burst(v, DURATION)));
  const result = cpu.result.result;
  const n = Math.max(1, result.requests.total);
  v.windows.push({
    rate: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    failed: result.non2xx + result.errors + result.timeouts,
    nodeCpu: cpu.result.cpuMicros / n,
    dbCpu: cpu.cpuMicros / n,
  });
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
try {
  for (const v of versions) {
    log(`preparing ${v.name} (${v.commit}) ...`);
    await prepare(v);
    await burst(v, 3); // warm-up, not counted
  }
  for (let round = 1; round <= ROUNDS; round++) {
    const order = round % 2 ? versions : [...versions].reverse();
    for (const v of order) {
      log(`round ${round}: ${v.name} (load average ${load()}) ...`);
      await measure(v);
    }
  }
  // Let the last settlements (after each answer) land before counting.
  await new Promise((resolve) => setTimeout(resolve, 2000));
  const first = versions[0];
  console.log(
    `One account's gateway requests, ${CONNECTIONS} at once (${ROUNDS} rounds of ${DURATION} s, alternated; medians)`,
  );
  console.log(
    '| build | requests/s | × first build (median of rounds) | p50 ms | p99 ms | Node CPU | database CPU | failed |',
  );
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const v of versions) {
    const ratios = v.windows.map((w, i) => w.rate / first.windows[i].rate);
    const m = (key) => median(v.windows.map((w) => w[key]));
    console.log(
      `| ${v.name} (${v.commit}) | ${Math.round(m('rate'))} | ${median(ratios).toFixed(2)}× | ${m('p50')} | ${m('p99')} | ${Math.round(m('nodeCpu'))} µs | ${Math.round(m('dbCpu'))} µs | ${v.windows.reduce((a, w) => a + w.failed, 0)} |`,
    );
  }
  for (const v of versions) console.log(`${v.name}: ${JSON.stringify(await gatewayMoney(v.pool))}`);
  console.log(`load average (1, 5, 15 min) at the end: ${load()}`);
} finally {
  for (const v of versions) {
    await v.pool?.end();
    await v.service?.stop();
    await v.database?.drop();
  }
  await server.stop();
  standIn.close();
}
