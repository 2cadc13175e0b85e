// npm run bench:rollforward-pages: what a roll-forward page by account by day over a year costs with
// the roll-forward's sums by day and without them (docs/finance.md "The sums by day"), alone, on the
// database bench/heavy-reads.mjs seeded and kept (BENCH_HEAVY_DATABASE, required: seed it first with
// `BENCH_HEAVY_DATABASE=<name> npm run bench:heavy-reads`). For each of BENCH_PAGES_RUNS runs (3):
// a first page (no cursor) read from every line (the sums emptied, so no read fills them), the sums
// filled (timed), a first page from the sums and the page after it (a cursor: it reuses the first
// page's figures of all accounts); then EXPLAIN (ANALYZE, BUFFERS) of the statement that sums the
// figures of all accounts from the sums. Prints each time with the load average when it was taken.
import { loadavg } from 'node:os';
import path from 'node:path';

import pg from 'pg';

import { accessToken, log, ROOT, startServer, startService, withDatabase } from './lib.mjs';

const { CreditFinanceRepository } = await import(
  path.join(ROOT, 'dist/src/credits/finance-feed/credit-finance.repository.js')
);

const RUNS = Number(process.env.BENCH_PAGES_RUNS ?? 3);
const DAY = 86_400_000;
const name = process.env.BENCH_HEAVY_DATABASE;
if (!name || !/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error('BENCH_HEAVY_DATABASE: the kept database to read');

const load = () =>
  loadavg()
    .map((n) => n.toFixed(1))
    .join(' ');
const server = await startServer();
const url = withDatabase(server.url, name);
const service = await startService(
  url,
  { NODE_ENV: 'test', LOG_FORMAT: 'json', JOBS_ENABLED: 'false' },
  { readyWithinMs: 300_000 },
);
const db = new pg.Pool({ connectionString: url, max: 1 });
const admin = `Bearer ${accessToken('bench-admin', 'admin')}`;
const to = new Date(Date.now() + DAY).toISOString().slice(0, 10);
const from = new Date(Date.now() - 365 * DAY).toISOString().slice(0, 10);
const query = `currency=usd&from=${from}&to=${to}&interval=day&groupBy=account&limit=100`;
const rows = [];
try {
  const [{ lines }] = (await db.query(`SELECT count(*)::int AS lines FROM credit_ledger`)).rows;
  log(`rollforward pages: ${name}, ${lines} ledger lines, load average ${load()}`);
  for (let run = 1; run <= RUNS; run++) {
    await db.query(`DELETE FROM credit_ledger_days`);
    await db.query(
      `UPDATE credit_ledger_days_filled SET up_to_xid = 0, up_to_id = 0, filled_at = now() + interval '1 day'`,
    );
    rows.push(['first page, every line', run, (await page('')).ms, load()]);
    await db.query(`UPDATE credit_ledger_days_filled SET filled_at = NULL`);
    // A roll-forward of all accounts: it fills the sums first (their job is off here).
    const started = performance.now();
    await get(`currency=usd&from=${to}&to=${new Date(Date.now() + 2 * DAY).toISOString().slice(0, 10)}`);
    rows.push(['the sums filled (with its small read)', run, performance.now() - started, load()]);
    const first = await page('');
    rows.push(['first page, from the sums', run, first.ms, load()]);
    rows.push(['the page after it', run, (await page(`&cursor=${first.body.nextCursor}`)).ms, load()]);
  }
  const [cover] = (await db.query(`SELECT up_to_xid::text AS xid, up_to_id::text AS id FROM credit_ledger_days_filled`))
    .rows;
  log(`sums by day cover lines up to id ${cover.id}`);
  // The statement as the service sends it, explained instead of run for its rows.
  const explain = {
    query: async (sql, params) => (await db.query(`EXPLAIN (ANALYZE, BUFFERS) ${sql}`, params)).rows,
  };
  const starts = [];
  for (let t = Date.parse(from); t < Date.parse(to); t += DAY) starts.push(new Date(t));
  const plan = await new CreditFinanceRepository().movementsOfAll(explain, {
    currency: 'usd',
    starts,
    to: new Date(Date.parse(to)),
    promotional: true,
    cover,
  });
  console.log('\nEXPLAIN (ANALYZE, BUFFERS) of the figures of all accounts from the sums:');
  console.log(plan.map((r) => r['QUERY PLAN']).join('\n'));
} finally {
  await db.end();
  await service.stop();
  await server.stop();
}
console.log(`\nRoll-forward pages by account by day over a year, 100 accounts (${name}):`);
for (const [what, run, ms, avg] of rows) {
  console.log(`  ${what.padEnd(40)} run ${run}: ${ms.toFixed(0).padStart(7)} ms  (load ${avg})`);
}

async function get(q) {
  const started = performance.now();
  const res = await fetch(`${service.base}/api/finance/rollforward?${q}`, { headers: { Authorization: admin } });
  const body = await res.json();
  if (res.status !== 200) throw new Error(`${res.status} ${JSON.stringify(body)}`);
  return { body, ms: performance.now() - started };
}

function page(cursor) {
  return get(`${query}${cursor}`);
}
