// node bench/gateway.mjs (after npm run build; npm run bench:gateway builds and runs it): what the
// gateway adds (docs/gateway.md). A provider stand-in in this process answers OpenAI chat
// completions at once; BENCH_GATEWAY_REQUESTS (default 2000) non-streamed requests, one at a time,
// alternate between calling it directly and through the gateway (a key with the gateway scope, its
// hold, forward and settlement), and the difference of the two latencies' p50 and p99 is what the
// gateway adds. Streams measure the time from the stand-in writing its first event to the client
// reading it, directly and through the gateway, in alternating order too. Beside them: where the
// gateway's time goes stage by stage (the service's accounting_gateway_stage_seconds histogram over
// the measured requests), a durable one-row commit on the same database (the floor of the hold's
// statement), the connections the upstream saw opened, the CPU a gateway request costs the service
// and the database (steadier than latency on a shared machine), and the load average before and after.
import http from 'node:http';
import { loadavg } from 'node:os';

import pg from 'pg';

import { answer, gatewayEnvironment, gatewayKeys, MODEL, PROVIDER_KEY, usage } from './gateway-answer.mjs';
import {
  accessToken,
  freshDatabase,
  log,
  METRICS_TOKEN,
  seedUsers,
  startServer,
  startService,
  statisticsNow,
} from './lib.mjs';
import { withCpu, withDatabaseCpu } from './measure.mjs';

const REQUESTS = Number(process.env.BENCH_GATEWAY_REQUESTS ?? 2000);
const STREAMS = Number(process.env.BENCH_GATEWAY_STREAMS ?? 300);
const chunk = (delta, extra = {}) =>
  `data: ${JSON.stringify({ id: 'chatcmpl-bench', object: 'chat.completion.chunk', model: MODEL, choices: [{ index: 0, delta, finish_reason: null }], ...extra })}\n\n`;

/** When the stand-in wrote each stream's first event (performance.now(), by the request's marker). */
const firstWritten = new Map();
/** Connections opened to the stand-in (the gateway's keep-alive reuse shows as a handful). */
let connections = 0;

const standIn = http.createServer((req, res) => {
  const parts = [];
  req.on('data', (c) => parts.push(c));
  req.on('end', () => {
    const body = JSON.parse(Buffer.concat(parts).toString('utf8'));
    if (body.stream !== true) {
      res.writeHead(200, { 'content-type': 'application/json' });
      return void res.end(answer);
    }
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    firstWritten.set(body.messages[0].content, performance.now());
    res.write(chunk({ role: 'assistant', content: 'Hello' }));
    res.write(chunk({ content: ' there' }));
    res.write(
      `data: ${JSON.stringify({ id: 'chatcmpl-bench', object: 'chat.completion.chunk', model: MODEL, choices: [], usage })}\n\n`,
    );
    res.end('data: [DONE]\n\n');
  });
});
standIn.on('connection', () => connections++);
await new Promise((resolve) => standIn.listen(0, '127.0.0.1', resolve));
const upstream = `http://127.0.0.1:${standIn.address().port}/v1`;

const server = await startServer();
const database = await freshDatabase(server.url, 'accounting_bench_gateway');
let service;
let db;
const percentile = (values, p) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
};
const ms = (v) => Number(v.toFixed(2));
const load = () =>
  loadavg()
    .map((v) => v.toFixed(2))
    .join(' ');

/** The stage histogram's sums, counts and buckets (GET /metrics), by stage. */
async function stages(base) {
  const res = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
  const text = await res.text();
  const by = {};
  for (const [, kind, labels, value] of text.matchAll(
    /^accounting_gateway_stage_seconds_(sum|count|bucket)\{([^}]*)\} (\S+)$/gm,
  )) {
    const stage = /stage="([^"]+)"/.exec(labels)[1];
    by[stage] ??= { sum: 0, count: 0, buckets: [] };
    if (kind === 'bucket') by[stage].buckets.push([/le="([^"]+)"/.exec(labels)[1], Number(value)]);
    else by[stage][kind] = Number(value);
  }
  return by;
}

/** Each stage's mean and the histogram bucket its median falls in, between two scrapes. */
function stageRows(before, after) {
  return Object.keys(after).map((stage) => {
    const a = after[stage];
    const b = before[stage] ?? { sum: 0, count: 0, buckets: [] };
    const count = a.count - b.count;
    const bucket = a.buckets.find(([, n], i) => n - (b.buckets[i]?.[1] ?? 0) >= count / 2);
    const le = bucket[0] === '+Inf' ? '+Inf' : `≤ ${ms(Number(bucket[0]) * 1000)}`;
    return { stage, requests: count, 'mean (ms)': ms(((a.sum - b.sum) / count) * 1000), 'p50 (ms)': le };
  });
}

try {
  // Each SQL function's own time, on the bench database only (as bench:stages): a hold's first step's
  // (credit_take_accounts(), which for one account locks its row by key and does little else) is its
  // wait for the lock, a hold waiting for the same account's settlement.
  const owner = new pg.Client({ connectionString: database.url });
  await owner.connect();
  await owner.query(`ALTER DATABASE ${database.name} SET track_functions = 'all'`);
  await owner.end();
  // As the other benches run it: NODE_ENV=production refuses an upstream on a private address.
  service = await startService(database.url, { NODE_ENV: 'test', ...gatewayEnvironment(upstream) });
  db = new pg.Pool({ connectionString: database.url, max: 2 });
  await seedUsers(db, 1, 1_000_000_000);
  const [key] = await gatewayKeys(service.base, `Bearer ${accessToken('bench-admin', 'admin')}`, [
    `Bearer ${accessToken('bench-1')}`,
  ]);

  const request = (base, headers, stream, content = 'Say hello') =>
    fetch(`${base}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ model: MODEL, messages: [{ role: 'user', content }], max_tokens: 100, stream }),
    });
  const targets = {
    direct: { base: upstream, headers: { authorization: `Bearer ${PROVIDER_KEY}` } },
    gateway: { base: `${service.base}/v1`, headers: { authorization: `Bearer ${key}` } },
  };

  /** One non-streamed request's latency, headers to the last byte of the body. */
  const once = async ({ base, headers }) => {
    const started = performance.now();
    const res = await request(base, headers, false);
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`status ${res.status}`);
    return performance.now() - started;
  };
  /** One stream's first byte: from the stand-in writing it to the client reading it. */
  const firstByte = async ({ base, headers }, i) => {
    const marker = `bench-stream-${i}`;
    const res = await request(base, headers, true, marker);
    const reader = res.body.getReader();
    await reader.read();
    const at = performance.now();
    while (!(await reader.read()).done);
    return at - firstWritten.get(marker);
  };

  log(`warming up... (load average ${load()})`);
  const loadBefore = load();
  for (let i = 0; i < 200; i++) {
    await once(targets.direct);
    await once(targets.gateway);
  }
  // Measured from fresh statistics, as every bench window is (docs/benchmarks.md "Statistics before every window").
  await statisticsNow(db);
  log(`${REQUESTS} non-streamed requests each way...`);
  const latency = { direct: [], gateway: [] };
  const stagesBefore = await stages(service.base);
  const connectionsBefore = connections;
  for (let i = 0; i < REQUESTS; i++)
    for (const name of i % 2 ? ['direct', 'gateway'] : ['gateway', 'direct'])
      latency[name].push(await once(targets[name]));
  const stagesAfter = await stages(service.base);
  const opened = connections - connectionsBefore;
  log(`${STREAMS} streams each way...`);
  const ttfb = { direct: [], gateway: [] };
  for (let i = 0; i < STREAMS; i++)
    for (const name of i % 2 ? ['direct', 'gateway'] : ['gateway', 'direct'])
      ttfb[name].push(await firstByte(targets[name], `${name}-${i}`));

  // A durable one-row commit on the same database: the WAL flush every hold's statement waits for.
  await db.query('CREATE TABLE bench_commit_probe (n int)');
  const commits = [];
  for (let i = 0; i < 300; i++) {
    const started = performance.now();
    await db.query('INSERT INTO bench_commit_probe VALUES ($1)', [i]);
    commits.push(performance.now() - started);
  }
  // CPU: gateway requests only, the service's (its own counters) and the database backends' (/proc).
  await statisticsNow(db);
  log(`${REQUESTS} gateway requests for CPU...`);
  const cpu = await withDatabaseCpu(db, () =>
    withCpu(service, async () => {
      for (let i = 0; i < REQUESTS; i++) await once(targets.gateway);
    }),
  );
  // For scale: the bench's own CPU for a direct request (its fetch client and the stand-in answering).
  const benchCpu = process.cpuUsage();
  for (let i = 0; i < REQUESTS; i++) await once(targets.direct);
  const directCpu = process.cpuUsage(benchCpu);
  const loadAfter = load();

  const row = (what, values) => ({ what, p50: ms(percentile(values, 50)), p99: ms(percentile(values, 99)) });
  console.table([
    row('non-streamed, direct (ms)', latency.direct),
    row('non-streamed, through the gateway (ms)', latency.gateway),
    row('stream first byte, direct (ms)', ttfb.direct),
    row('stream first byte, through the gateway (ms)', ttfb.gateway),
    row('durable one-row commit (ms)', commits),
  ]);
  console.table(stageRows(stagesBefore, stagesAfter));
  const added = (p) => ms(percentile(latency.gateway, p) - percentile(latency.direct, p));
  const addedFirst = (p) => ms(percentile(ttfb.gateway, p) - percentile(ttfb.direct, p));
  console.log(`gateway adds to a non-streamed answer: p50 ${added(50)} ms, p99 ${added(99)} ms`);
  console.log(`gateway adds to a stream's first byte: p50 ${addedFirst(50)} ms, p99 ${addedFirst(99)} ms`);
  console.log(
    `CPU per gateway request: service ${Math.round(cpu.result.cpuMicros / REQUESTS)} µs, database ${Math.round(cpu.cpuMicros / REQUESTS)} µs`,
  );
  console.log(
    `CPU per direct request (the bench's client and stand-in together): ${Math.round((directCpu.user + directCpu.system) / REQUESTS)} µs`,
  );
  console.log(`upstream connections opened for ${REQUESTS} gateway requests: ${opened}`);
  const lock = await db.query(
    `SELECT calls::int, self_time FROM pg_stat_user_functions WHERE funcname = 'credit_take_accounts'`,
  );
  if (lock.rows[0])
    console.log(
      `account lock as the holds take it (credit_take_accounts(), the whole run): ${lock.rows[0].calls} calls, ${ms(lock.rows[0].self_time / lock.rows[0].calls)} ms mean wait`,
    );
  console.log(`load average (1, 5, 15 min): ${loadBefore} before, ${loadAfter} after`);
  const { rows } = await db.query(`SELECT count(*)::int AS n FROM usage_records WHERE service = 'gateway'`);
  log(`${rows[0].n} gateway records written`);
} finally {
  await db?.end();
  await service?.stop();
  await database.drop();
  await server.stop();
  standIn.close();
}
