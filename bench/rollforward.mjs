// npm run bench, after the scenarios: the finance roll-forward (docs/finance.md) of a month over
// 1,000,000 usage records. The built service on a fresh database; 1,000 users with a valued
// allocation each and 1,000,000 records' debit lines (value, currency, category) spread over the
// current month, written by SQL as the ledger writer writes them; then GET /api/finance/rollforward
// for the month (by month, by day, by account) timed after a warm-up, median and worst of 5.
// BENCH_ROLLFORWARD=none skips it; BENCH_ROLLFORWARD_RECORDS=<n> changes the count.
import pg from 'pg';

import { accessToken, freshDatabase, log, startServer, startService } from './lib.mjs';

if (process.env.BENCH_ROLLFORWARD === 'none') {
  log('BENCH_ROLLFORWARD=none: the roll-forward run is skipped');
  process.exit(0);
}
const USERS = 1000;
const RECORDS = Number(process.env.BENCH_ROLLFORWARD_RECORDS ?? 1_000_000);
const RUNS = 5;

const server = await startServer();
const database = await freshDatabase(server.url, 'accounting_bench_rollforward');
const service = await startService(database.url, { NODE_ENV: 'test', LOG_FORMAT: 'json', JOBS_ENABLED: 'false' });
const db = new pg.Pool({ connectionString: database.url, max: 2 });
try {
  const seeded = Date.now();
  await db.query(`INSERT INTO user_accounts (user_id, role) SELECT 'rf-' || g, 'user' FROM generate_series(1, $1) g`, [
    USERS,
  ]);
  // Each user's lot: 1,000,000 credits sold for 10,000.00 usd, its grant line at the month's start.
  await db.query(
    `WITH a AS (
       INSERT INTO credit_allocations (account_id, total_credits, remaining_credits, allocated_by, expires_at,
                                       value_minor, value_remaining_minor, currency, allocated_at)
       SELECT c.account_id, 1000000, 1000000, 'bench', now() + interval '60 days', 1000000, 1000000, 'usd',
              date_trunc('month', now())
         FROM accounts c WHERE c.user_id LIKE 'rf-%'
       RETURNING id, account_id, account_user_id(account_id) AS user_id, allocated_at)
     INSERT INTO credit_ledger (account_id, member_id, allocation_id, kind, amount, balance_after, created_by, created_at,
                                value_minor, currency, category)
     SELECT account_id, user_id, id, 'grant', 1000000, 1000000, 'bench', allocated_at, 1000000, 'usd', 'sold' FROM a`,
  );
  // The records' debit lines, spread over the month so far, 1 to 5 credits (a cent each).
  await db.query(
    `INSERT INTO credit_ledger (account_id, member_id, allocation_id, kind, amount, balance_after, created_by, created_at,
                                value_minor, currency, category)
     SELECT a.account_id, c.user_id, a.id, 'debit', -n, 0, 'bench',
            date_trunc('month', now()) + (now() - date_trunc('month', now())) * (g::float8 / $1), -n, 'usd', 'recognized'
       FROM generate_series(1, $1) g
       CROSS JOIN LATERAL (SELECT 1 + g % 5 AS n) k
       JOIN accounts c ON c.user_id = 'rf-' || (1 + g % $2)
       JOIN credit_allocations a ON a.account_id = c.account_id`,
    [RECORDS, USERS],
  );
  await db.query('VACUUM ANALYZE credit_ledger');
  log(`roll-forward: ${RECORDS} records seeded in ${((Date.now() - seeded) / 1000).toFixed(1)} s`);

  const now = new Date();
  const month = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1)).toISOString().slice(0, 10);
  const next = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1)).toISOString().slice(0, 10);
  const auth = `Bearer ${accessToken('bench-finance', 'admin')}`;
  const time = async (query) => {
    const url = `${service.base}/api/finance/rollforward?currency=usd&from=${month}&to=${next}${query}`;
    const times = [];
    let body;
    for (let i = 0; i <= RUNS; i++) {
      const started = performance.now();
      const res = await fetch(url, { headers: { Authorization: auth } });
      body = await res.json();
      if (res.status !== 200) throw new Error(`rollforward ${res.status}: ${JSON.stringify(body)}`);
      if (i > 0) times.push(performance.now() - started);
    }
    times.sort((x, y) => x - y);
    return { median: times[Math.floor(times.length / 2)], worst: times.at(-1), body };
  };
  const rows = [];
  for (const [label, query] of [
    ['by month', '&interval=month'],
    ['by day', '&interval=day'],
    ['by month, by account', '&interval=month&groupBy=account'],
  ]) {
    const { median, worst, body } = await time(query);
    rows.push({ label, median, worst });
    if (label === 'by month') log(`roll-forward totals: ${JSON.stringify(body.totals)}`);
  }
  console.log(`\nRoll-forward of a month over ${RECORDS.toLocaleString('en')} records (GET /api/finance/rollforward):`);
  for (const r of rows) {
    console.log(`  ${r.label.padEnd(22)} median ${r.median.toFixed(0).padStart(5)} ms, worst ${r.worst.toFixed(0)} ms`);
  }
  const month1 = rows[0];
  console.log(`  target: under 1,000 ms by month: ${month1.worst < 1000 ? 'met' : 'NOT met'}`);
} finally {
  await db.end();
  await service.stop();
  await database.drop();
  await server.stop();
}
