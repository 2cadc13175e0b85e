// npm run bench:parquet: the Parquet export (docs/exports.md) of 1,000,000 usage records and their
// 1,000,000 ledger lines. The built service on a fresh database with EXPORT_DIR set; the rows are
// written by SQL as the engine writes them, then POST /api/exports/run and its run timed to the end,
// unpaced (EXPORT_ROWS_PER_SECOND=0). Prints rows a second and the files' sizes. Then, the service
// started again at its default pace (BENCH_PARQUET_ROWS_PER_SECOND sets another), the record route
// beside a running export, in interleaved rounds: each round seeds BENCH_PARQUET_ROUND_RECORDS more records, and measures the
// record route (BENCH_PARQUET_CLIENTS clients back to back) for BENCH_PARQUET_WINDOW_S seconds with
// no export and for as long again while an export of them runs, in alternating order. Per window: the
// rate, p50 and p99, and the service's main-thread CPU per request (/proc: the event loop's own work,
// which the machine's other load does not inflate; DuckDB and libuv have threads of their own).
// BENCH_PARQUET_RECORDS=<n> changes the first count, BENCH_PARQUET_ROUNDS the rounds (default 6).
import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import pg from 'pg';

import { accessToken, freshDatabase, log, startServer, startService } from './lib.mjs';
import { percentile } from './measure.mjs';

const USERS = 1000;
const env = (name, fallback) => Number(process.env[name] ?? fallback);
const RECORDS = env('BENCH_PARQUET_RECORDS', 1_000_000);
const ROUNDS = env('BENCH_PARQUET_ROUNDS', 6);
const ROUND_RECORDS = env('BENCH_PARQUET_ROUND_RECORDS', 300_000);
const WINDOW_MS = env('BENCH_PARQUET_WINDOW_S', 5) * 1000;
const CLIENTS = env('BENCH_PARQUET_CLIENTS', 4);

const server = await startServer();
const database = await freshDatabase(server.url, 'accounting_bench_parquet');
const dir = await mkdtemp(path.join(tmpdir(), 'accounting-bench-parquet-'));
/** The service on the bench database, its exports read at `rowsPerSecond` (unset: the service's default). */
const startExporting = (rowsPerSecond) =>
  startService(
    database.url,
    {
      NODE_ENV: 'test',
      LOG_FORMAT: 'json',
      JOBS_ENABLED: 'false',
      EXPORT_DIR: dir,
      METERING_TRUST: 'users',
      ...(rowsPerSecond === undefined ? {} : { EXPORT_ROWS_PER_SECOND: rowsPerSecond }),
    },
    // On cores shared with other work, the service may take minutes to start (its migrations on a fresh database).
    { readyWithinMs: 600_000 },
  );
// The export's own rate unpaced; the record route beside it at the service's pace (EXPORT_ROWS_PER_SECOND).
let service = await startExporting('0');
const db = new pg.Pool({ connectionString: database.url, max: 2 });
const admin = { Authorization: `Bearer ${accessToken('bench-exports', 'admin')}` };

async function filesOf(root) {
  const out = [];
  for (const entry of await readdir(root, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && entry.name.endsWith('.parquet')) {
      const file = path.join(entry.parentPath, entry.name);
      out.push({ file, bytes: (await stat(file)).size });
    }
  }
  return out;
}

async function runExport() {
  const started = performance.now();
  const res = await fetch(`${service.base}/api/exports/run`, { method: 'POST', headers: admin });
  const run = await res.json();
  if (res.status !== 202) throw new Error(`export ${res.status}: ${JSON.stringify(run)}`);
  for (;;) {
    const list = await (await fetch(`${service.base}/api/exports?limit=5`, { headers: admin })).json();
    const mine = list.items.find((r) => r.id === run.id);
    if (mine && mine.status !== 'running') {
      if (mine.status !== 'completed') throw new Error(`export ${mine.status}: ${mine.lastError}`);
      return { run: mine, ms: performance.now() - started };
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** CPU seconds (user + system) of the service's main thread so far: its event loop, not DuckDB's threads. */
function mainThreadCpuSeconds() {
  const fields = readFileSync(`/proc/${service.pid}/task/${service.pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/**
 * Records over CLIENTS clients back to back until `until` resolves (or `ms` pass): the rate, p50 and
 * p99 in ms, and the main thread's CPU per request in µs.
 */
async function recordWindow(users, { ms, until = null }) {
  let stop = false;
  let failed = 0;
  const times = [];
  const timer = setTimeout(() => (stop = true), ms);
  until?.then(() => (stop = true));
  const cpu = mainThreadCpuSeconds();
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CLIENTS }, async (_, c) => {
      for (let i = c; !stop; i += CLIENTS) {
        const sent = performance.now();
        const res = await fetch(`${service.base}/api/usage/record`, {
          method: 'POST',
          headers: { Authorization: `Bearer ${users[i % users.length]}`, 'Content-Type': 'application/json' },
          body: JSON.stringify({ service: 'chat', operation: 'completion', credits: 1 }),
        });
        await res.arrayBuffer();
        if (res.status !== 201) failed++;
        times.push(performance.now() - sent);
      }
    }),
  );
  clearTimeout(timer);
  const seconds = (performance.now() - started) / 1000;
  const cpuMicros = ((mainThreadCpuSeconds() - cpu) * 1e6) / times.length;
  times.sort((a, b) => a - b);
  return {
    rate: times.length / seconds,
    p50: percentile(times, 50),
    p99: percentile(times, 99),
    cpuMicros,
    seconds,
    failed,
  };
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const loadAverage = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

try {
  const seeded = Date.now();
  await db.query(`INSERT INTO user_accounts (user_id, role) SELECT 'px-' || g, 'user' FROM generate_series(1, $1) g`, [
    USERS,
  ]);
  await db.query(
    `INSERT INTO credit_allocations (account_id, total_credits, remaining_credits, allocated_by, expires_at,
                                     value_minor, value_remaining_minor, currency)
     SELECT c.account_id, 10000000, 10000000, 'bench', now() + interval '60 days', 1000000, 1000000, 'usd'
       FROM accounts c WHERE c.user_id LIKE 'px-%'`,
  );
  await db.query(
    `WITH r AS (
       INSERT INTO usage_records (user_id, timestamp, service, operation, credits, tokens, model_id, account_id)
       SELECT 'px-' || (1 + g % $2), now() - (g % 30) * interval '1 day', 'chat', 'completion', 1 + g % 5, 100 + g % 900, 'gpt-4o',
              (SELECT a.account_id FROM accounts a WHERE a.user_id = 'px-' || (1 + g % $2))
         FROM generate_series(1, $1) g
       RETURNING id, user_id, credits, timestamp)
     INSERT INTO credit_ledger (account_id, member_id, allocation_id, kind, amount, balance_after, created_by, created_at,
                                usage_record_id, value_minor, currency, category)
     SELECT a.account_id, r.user_id, a.id, 'debit', -r.credits, 0, 'bench', r.timestamp, r.id, 0, 'usd', 'recognized'
       FROM r JOIN accounts c ON c.user_id = r.user_id JOIN credit_allocations a ON a.account_id = c.account_id`,
    [RECORDS, USERS],
  );
  await db.query('VACUUM ANALYZE usage_records, credit_ledger');
  log(`parquet: ${RECORDS} records and their ledger lines seeded in ${((Date.now() - seeded) / 1000).toFixed(1)} s`);

  const { run, ms } = await runExport();
  const rows = run.datasets.reduce((n, d) => n + d.rows, 0);
  const files = await filesOf(dir);
  const bytes = (name) =>
    files.filter((f) => f.file.includes(`${path.sep}${name}${path.sep}`)).reduce((n, f) => n + f.bytes, 0);
  console.log(
    `\nParquet export of ${RECORDS.toLocaleString('en')} records and their ledger lines (POST /api/exports/run, unpaced):`,
  );
  console.log(
    `  ${rows.toLocaleString('en')} rows in ${(ms / 1000).toFixed(1)} s: ${Math.round(rows / (ms / 1000)).toLocaleString('en')} rows/s`,
  );
  for (const d of run.datasets) {
    console.log(
      `  ${d.dataset.padEnd(15)} ${String(d.rows).padStart(9)} rows, ${d.files} files, ${(bytes(d.dataset) / 1e6).toFixed(1)} MB`,
    );
  }

  // The record route with no export and beside one, in alternating order so that the machine's drift
  // falls on both: each round seeds its own records for its export, read at the service's pace.
  await service.stop();
  service = await startExporting(process.env.BENCH_PARQUET_ROWS_PER_SECOND);
  const pace = process.env.BENCH_PARQUET_ROWS_PER_SECOND ?? 'the default';
  const users = Array.from({ length: 200 }, (_, i) => accessToken(`px-${i + 1}`));
  await recordWindow(users, { ms: 2000 }); // warm-up
  const alone = [];
  const beside = [];
  const fmt = (w) =>
    `${w.rate.toFixed(0)}/s, p50 ${w.p50.toFixed(1)} ms, p99 ${w.p99.toFixed(1)} ms, ` +
    `${w.cpuMicros.toFixed(0)} µs main-thread CPU a request (${w.seconds.toFixed(1)} s)`;
  console.log(
    `  record route (${CLIENTS} clients back to back), ${ROUNDS} rounds of ${WINDOW_MS / 1000} s with no export and ` +
      `beside an export of ${ROUND_RECORDS.toLocaleString('en')} records (EXPORT_ROWS_PER_SECOND ${pace}), ` +
      `load average ${loadAverage()}:`,
  );
  let failed = 0;
  for (let round = 0; round < ROUNDS; round++) {
    await db.query(
      `INSERT INTO usage_records (user_id, timestamp, service, operation, credits, tokens, model_id, account_id)
       SELECT 'px-' || (1 + g % $2), now(), 'chat', 'completion', 1, 100, 'gpt-4o', (SELECT a.account_id FROM accounts a WHERE a.user_id = 'px-' || (1 + g % $2))
         FROM generate_series(1, $1) g`,
      [ROUND_RECORDS, USERS],
    );
    const withExport = async () => {
      const exporting = runExport();
      const w = await recordWindow(users, { ms: WINDOW_MS, until: exporting });
      const run = await exporting;
      if (w.seconds < WINDOW_MS / 1000 - 0.5)
        log(`  round ${round + 1}: the export ended first (${(run.ms / 1000).toFixed(1)} s)`);
      beside.push(w);
      return w;
    };
    const withoutExport = async () => {
      const w = await recordWindow(users, { ms: WINDOW_MS });
      alone.push(w);
      return w;
    };
    const [first, second] = round % 2 === 0 ? [withoutExport, withExport] : [withExport, withoutExport];
    const a = await first();
    const b = await second();
    const [no, yes] = round % 2 === 0 ? [a, b] : [b, a];
    failed += no.failed + yes.failed;
    console.log(`    round ${round + 1}: no export ${fmt(no)}`);
    console.log(`             export    ${fmt(yes)}`);
  }
  const ratio = (pick) => median(beside.map(pick)) / median(alone.map(pick));
  const spread = (pick) => `${Math.min(...alone.map(pick)).toFixed(0)}–${Math.max(...alone.map(pick)).toFixed(0)}`;
  console.log(
    `  medians: rate ${median(alone.map((w) => w.rate)).toFixed(0)}/s → ${median(beside.map((w) => w.rate)).toFixed(0)}/s ` +
      `(${ratio((w) => w.rate).toFixed(2)}×; with no export the rounds spread ${spread((w) => w.rate)}/s), ` +
      `p50 ${ratio((w) => w.p50).toFixed(2)}×, p99 ${ratio((w) => w.p99).toFixed(2)}×, ` +
      `main-thread CPU a request ${median(alone.map((w) => w.cpuMicros)).toFixed(0)} → ` +
      `${median(beside.map((w) => w.cpuMicros)).toFixed(0)} µs; failed ${failed}; load average ${loadAverage()}`,
  );
} finally {
  await db.end();
  await service.stop();
  await database.drop();
  await server.stop();
  await rm(dir, { recursive: true, force: true });
}
