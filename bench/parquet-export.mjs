// npm run bench:parquet: the Parquet export (docs/exports.md) of 1,000,000 usage records and their
// 1,000,000 ledger lines. The built service on a fresh database with EXPORT_DIR set; the rows are
// written by SQL as the engine writes them, then POST /api/exports/run and its run timed to the end.
// Prints rows a second, the files' sizes, and the record route's rate alone and while an export runs.
// BENCH_PARQUET_RECORDS=<n> changes the count.
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import pg from 'pg';

import { accessToken, freshDatabase, log, startServer, startService } from './lib.mjs';

const USERS = 1000;
const RECORDS = Number(process.env.BENCH_PARQUET_RECORDS ?? 1_000_000);
const LOAD_REQUESTS = 4000;
const CONNECTIONS = 16;

const server = await startServer();
const database = await freshDatabase(server.url, 'accounting_bench_parquet');
const dir = await mkdtemp(path.join(tmpdir(), 'accounting-bench-parquet-'));
const service = await startService(database.url, {
  NODE_ENV: 'test',
  LOG_FORMAT: 'json',
  JOBS_ENABLED: 'false',
  EXPORT_DIR: dir,
  METERING_TRUST: 'users',
});
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

/** LOAD_REQUESTS records over CONNECTIONS connections; answers records a second. */
async function recordRate(users) {
  let next = 0;
  let failed = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      while (next < LOAD_REQUESTS) {
        const i = next++;
        const res = await fetch(`${service.base}/api/usage/record`, {
          method: 'POST',
          headers: { Authorization: `Bearer ${users[i % users.length]}`, 'Content-Type': 'application/json' },
          body: JSON.stringify({ service: 'chat', operation: 'completion', credits: 1 }),
        });
        if (res.status !== 201) failed++;
        await res.arrayBuffer();
      }
    }),
  );
  return { rate: LOAD_REQUESTS / ((performance.now() - started) / 1000), failed };
}

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
       INSERT INTO usage_records (user_id, timestamp, service, operation, credits, tokens, model_id)
       SELECT 'px-' || (1 + g % $2), now() - (g % 30) * interval '1 day', 'chat', 'completion', 1 + g % 5, 100 + g % 900, 'gpt-4o'
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
    `\nParquet export of ${RECORDS.toLocaleString('en')} records and their ledger lines (POST /api/exports/run):`,
  );
  console.log(
    `  ${rows.toLocaleString('en')} rows in ${(ms / 1000).toFixed(1)} s: ${Math.round(rows / (ms / 1000)).toLocaleString('en')} rows/s`,
  );
  for (const d of run.datasets) {
    console.log(
      `  ${d.dataset.padEnd(15)} ${String(d.rows).padStart(9)} rows, ${d.files} files, ${(bytes(d.dataset) / 1e6).toFixed(1)} MB`,
    );
  }

  // The record route alone, then while an export of the same size runs (its rows seeded again).
  const users = Array.from({ length: 200 }, (_, i) => accessToken(`px-${i + 1}`));
  await recordRate(users); // warm-up
  const alone = await recordRate(users);
  await db.query(
    `INSERT INTO usage_records (user_id, timestamp, service, operation, credits, tokens, model_id)
     SELECT 'px-' || (1 + g % $2), now(), 'chat', 'completion', 1, 100, 'gpt-4o' FROM generate_series(1, $1) g`,
    [RECORDS, USERS],
  );
  const exporting = runExport();
  const during = await recordRate(users);
  const second = await exporting;
  console.log(
    `  record route: ${alone.rate.toFixed(0)}/s alone, ${during.rate.toFixed(0)}/s while an export runs ` +
      `(${(during.rate / alone.rate).toFixed(2)}×; the export took ${(second.ms / 1000).toFixed(1)} s; ` +
      `failed ${alone.failed + during.failed})`,
  );
} finally {
  await db.end();
  await service.stop();
  await database.drop();
  await server.stop();
  await rm(dir, { recursive: true, force: true });
}
