// npm run bench:heavy-reads: heavy reads beside metering (docs/operations.md "Heavy reads"). The built
// service on a fresh database: BENCH_HEAVY_ACCOUNTS accounts (default 20,000) that each hold only
// signup credits (a promotional grant somewhere in the last year), BENCH_HEAVY_RECORDS usage records
// (default 3,000,000, over the last 30 days) and BENCH_HEAVY_LINES ledger lines of promotional use
// (default: as many as the records, over the last year), written by SQL. Then metering (records and
// balances, BENCH_HEAVY_LOOPS clients back to back) for BENCH_HEAVY_WINDOW_S seconds alone, then again
// while BENCH_HEAVY_ROLLFORWARDS roll-forwards by account by day over a year (each BENCH_HEAVY_PAGES
// pages of 1,000 accounts, following nextCursor) and BENCH_HEAVY_SIMULATIONS simulations over the
// whole range run, each retrying after Retry-After when refused. Prints the rates and their ratio,
// the 5xx other than 429 and 503 TIMEOUT, the service's peak RSS, and each page's time. Before the
// windows, one roll-forward of all accounts fills the roll-forward's sums by day (its job is off
// here), timed apart.
// The service runs with HEAVY_READS_CONCURRENCY=1, the setting for a primary whose cores metering
// shares, unless the environment sets it.
// BENCH_HEAVY_DATABASE names a database to seed once and keep (seeded when it holds no bench
// accounts, never dropped), so later runs skip the seeding; unset, a fresh one is seeded and dropped.
// BENCH_HEAVY_SERVICE_ROOT starts the service of another built checkout (its dist/src/main.js) instead
// of this one: the same seeded database measured with an earlier commit's service.
import pg from 'pg';

import { accessToken, freshDatabase, log, startServer, startService, withDatabase } from './lib.mjs';
import { PRICED_MODEL, seedAccountPrices, seedRecords } from './pricing.mjs';

const env = (name, fallback) => Number(process.env[name] ?? fallback);
const ACCOUNTS = env('BENCH_HEAVY_ACCOUNTS', 20_000);
const RECORDS = env('BENCH_HEAVY_RECORDS', 3_000_000);
const LINES = env('BENCH_HEAVY_LINES', RECORDS);
const WINDOW_MS = env('BENCH_HEAVY_WINDOW_S', 30) * 1000;
const LOOPS = env('BENCH_HEAVY_LOOPS', 8);
const ROLLFORWARDS = env('BENCH_HEAVY_ROLLFORWARDS', 10);
const SIMULATIONS = env('BENCH_HEAVY_SIMULATIONS', 10);
const PAGES = env('BENCH_HEAVY_PAGES', 3);
const DAY = 86_400_000;

const server = await startServer();
log(`database server: ${server.kind}`);
const database = process.env.BENCH_HEAVY_DATABASE
  ? await keptDatabase(server.url, process.env.BENCH_HEAVY_DATABASE)
  : await freshDatabase(server.url, 'accounting_bench_heavy');
const service = await startService(
  database.url,
  {
    NODE_ENV: 'test',
    PRICING_STRICT: 'true',
    LOG_FORMAT: 'json',
    JOBS_ENABLED: 'false',
    // The setting for a primary whose cores metering shares (docs/operations.md "Heavy reads").
    HEAVY_READS_CONCURRENCY: process.env.HEAVY_READS_CONCURRENCY ?? '1',
  },
  // Ready within five minutes: a loaded shared machine starts it slowly.
  {
    readyWithinMs: 300_000,
    ...(process.env.BENCH_HEAVY_SERVICE_ROOT ? { root: process.env.BENCH_HEAVY_SERVICE_ROOT } : {}),
  },
);
const db = new pg.Pool({ connectionString: database.url, max: 2 });
const admin = `Bearer ${accessToken('bench-admin', 'admin')}`;
try {
  const [{ n: present }] = await db
    .query(`SELECT count(*)::int AS n FROM user_accounts WHERE user_id LIKE 'bench-%'`)
    .then((r) => r.rows);
  if (present === 0) await seed();
  else log(`heavy reads: reusing ${database.name} (${present} accounts seeded before)`);
  await heavyScenario();
} finally {
  await db.end();
  await service.stop();
  await database.drop();
  await server.stop();
}

/** The accounts, their signup credits and promotional use, the priced usage records. */
async function seed() {
  const seeded = Date.now();
  await db.query(
    `INSERT INTO user_accounts (user_id, email, username, role)
     SELECT 'bench-' || g, 'bench-' || g || '@example.com', 'bench-' || g, 'user' FROM generate_series(1, $1) g`,
    [ACCOUNTS],
  );
  // Signup credits: one promotional lot per account, granted on a day of the last year.
  await db.query(
    `WITH a AS (
       INSERT INTO credit_allocations (account_id, total_credits, remaining_credits, allocated_by, expires_at, allocated_at)
       SELECT c.account_id, 1000000, 1000000, 'signup', now() + interval '400 days',
              now() - ((c.account_id % 365) || ' days')::interval
         FROM accounts c WHERE c.user_id LIKE 'bench-%'
       RETURNING id, account_id, account_user_id(account_id) AS user_id, allocated_at)
     INSERT INTO credit_ledger (account_id, member_id, allocation_id, kind, amount, balance_after, created_by, created_at, category)
     SELECT account_id, user_id, id, 'grant', 1000000, 1000000, 'signup', allocated_at, 'granted' FROM a`,
  );
  // Their use: promotional debit lines spread over the year.
  for (let start = 1; start <= LINES; start += 500_000) {
    await db.query(
      `INSERT INTO credit_ledger (account_id, member_id, allocation_id, kind, amount, balance_after, created_by, created_at, category)
       SELECT a.account_id, c.user_id, a.id, 'debit', -1, 0, 'bench', now() - (g % 31536000) * interval '1 second', 'recognized'
         FROM generate_series($1::int, $2::int) g
         JOIN accounts c ON c.user_id = 'bench-' || (1 + g % $3)
         JOIN credit_allocations a ON a.account_id = c.account_id`,
      [start, Math.min(start + 499_999, LINES), ACCOUNTS],
    );
  }
  await seedAccountPrices(service, db, admin);
  await seedRecords(db, RECORDS, ACCOUNTS);
  await db.query('VACUUM ANALYZE credit_ledger');
  log(
    `heavy reads: ${ACCOUNTS} accounts, ${RECORDS} records, ${LINES} ledger lines seeded in ` +
      `${((Date.now() - seeded) / 1000).toFixed(1)} s`,
  );
}

async function heavyScenario() {
  const counts = { fivexx: 0, busy: 0, timeout: 0, resets: 0, network: 0 };
  const count = (status, body) => {
    if (status === 429) counts.busy += 1;
    else if (status === 503 && body?.code === 'TIMEOUT') counts.timeout += 1;
    else if (status >= 500) counts.fivexx += 1;
  };

  /**
   * fetch(), asked again on a new socket when a kept-alive one was reset by the server as it was
   * reused (its keep-alive timeout is 5 s, as Retry-After): not an answer of the service's.
   */
  async function send(url, init) {
    for (let attempt = 1; ; attempt++) {
      try {
        return await fetch(url, init);
      } catch (error) {
        if (error.cause?.code === 'ECONNRESET') counts.resets += 1;
        else counts.network += 1;
        log(
          `${init?.method ?? 'GET'} ${url.slice(service.base.length, service.base.length + 40)}: ${error.cause?.code ?? error.message}`,
        );
        if (attempt === 3)
          return { status: 0, headers: new Headers(), json: async () => null, arrayBuffer: async () => null };
      }
    }
  }

  /** LOOPS clients recording and reading balances back to back until `until()`: requests per second of each. */
  async function metering(until) {
    const done = { record: 0, balance: 0, failed: 0 };
    const started = performance.now();
    await Promise.all(
      Array.from({ length: LOOPS }, async (_, i) => {
        const userId = `bench-${1 + (i % ACCOUNTS)}`;
        const user = `Bearer ${accessToken(userId)}`;
        while (!until()) {
          const record = await send(`${service.base}/api/usage/record`, {
            method: 'POST',
            headers: { Authorization: admin, 'Content-Type': 'application/json' },
            body: JSON.stringify({ userId, service: 'chat', operation: 'bench', credits: 1 }),
          });
          await record.arrayBuffer();
          if (record.status === 201) done.record += 1;
          else {
            done.failed += 1;
            count(record.status);
          }
          const balance = await send(`${service.base}/api/credits/balance`, { headers: { Authorization: user } });
          await balance.arrayBuffer();
          if (balance.status === 200) done.balance += 1;
          else {
            done.failed += 1;
            count(balance.status);
          }
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    return { record: done.record / seconds, balance: done.balance / seconds, failed: done.failed, seconds };
  }

  /** One heavy request, retried after Retry-After while refused: its answer and the time of the answered try. */
  async function heavy(url, init) {
    for (;;) {
      const started = performance.now();
      const res = await send(url, { ...init, headers: { Authorization: admin, ...init?.headers } });
      const body = await res.json().catch(() => null);
      count(res.status, body);
      if (res.status === 429) {
        await new Promise((r) =>
          setTimeout(r, Number(res.headers.get('retry-after') ?? 1) * 1000 + Math.random() * 500),
        );
        continue;
      }
      return { status: res.status, body, ms: performance.now() - started };
    }
  }

  const to = new Date(Date.now() + DAY).toISOString().slice(0, 10);
  const from = new Date(Date.now() - 365 * DAY).toISOString().slice(0, 10);
  const pages = [];
  async function rollForward(n) {
    let cursor = null;
    for (let page = 1; page <= PAGES; page++) {
      const query = `currency=usd&from=${from}&to=${to}&interval=day&groupBy=account&limit=1000`;
      const answer = await heavy(
        `${service.base}/api/finance/rollforward?${query}${cursor ? `&cursor=${cursor}` : ''}`,
      );
      pages.push({ n, page, ms: answer.ms, status: answer.status, accounts: answer.body?.accounts?.length });
      cursor = answer.body?.nextCursor;
      if (!cursor) return;
    }
  }
  const simulations = [];
  async function simulation() {
    const answer = await heavy(`${service.base}/api/pricing/simulations`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({
        from: new Date(Date.now() - 31 * DAY).toISOString(),
        to: new Date(Date.now() + 60_000).toISOString(),
        rules: [{ modelId: PRICED_MODEL, pricePer1kTokens: '2.5', outputPricePer1kTokens: '12' }],
        groupBy: 'day',
      }),
    });
    simulations.push({ ms: answer.ms, status: answer.status, records: answer.body?.records });
  }

  // The roll-forward's sums by day (docs/finance.md "The sums by day"): the job that keeps them is off
  // here (JOBS_ENABLED=false), so the first roll-forward of all accounts fills them over every line
  // seeded, once; timed apart from the pages.
  const warm = await heavy(`${service.base}/api/finance/rollforward?currency=usd&from=${from}&to=${to}&interval=day`);
  const [days] = await db
    .query(
      `SELECT up_to_id::text AS id, (SELECT count(*)::int FROM credit_ledger_days) AS days FROM credit_ledger_days_filled`,
    )
    .then((r) => r.rows)
    .catch(() => [{ id: '-', days: '-' }]);
  const filling = `${warm.status}, ${(warm.ms / 1000).toFixed(1)} s (sums by day: ${days.days} rows, lines up to id ${days.id})`;
  log(`first roll-forward of all accounts: ${filling}`);

  log(`metering alone for ${WINDOW_MS / 1000} s...`);
  const aloneEnds = Date.now() + WINDOW_MS;
  const alone = await metering(() => Date.now() > aloneEnds);

  log('metering beside the heavy reads...');
  let heavyDone = false;
  const besideEnds = Date.now() + WINDOW_MS;
  const reads = Promise.all([
    ...Array.from({ length: ROLLFORWARDS }, (_, n) => rollForward(n + 1)),
    ...Array.from({ length: SIMULATIONS }, () => simulation()),
  ]).finally(() => (heavyDone = true));
  reads.catch(() => undefined); // awaited below, after the metering beside it
  // For the window at least, and until the heavy reads are all answered.
  const beside = await metering(() => Date.now() > besideEnds && heavyDone);
  await reads;
  const peak = await service.peakRssMb();

  const rate = (n) => n.toFixed(0).padStart(6);
  console.log(`\nHeavy reads beside metering (${ACCOUNTS} accounts, ${RECORDS} records, ${LINES} ledger lines):`);
  console.log(
    `  metering alone      records ${rate(alone.record)}/s  balances ${rate(alone.balance)}/s  (${alone.seconds.toFixed(0)} s)`,
  );
  console.log(
    `  beside heavy reads  records ${rate(beside.record)}/s  balances ${rate(beside.balance)}/s  (${beside.seconds.toFixed(0)} s)`,
  );
  console.log(
    `  ratio (beside ÷ alone): records ${(beside.record / alone.record).toFixed(3)}, balances ${(beside.balance / alone.balance).toFixed(3)}`,
  );
  console.log(`  metering failures: ${alone.failed + beside.failed}`);
  console.log(
    `  5xx other than 429 and 503 TIMEOUT: ${counts.fivexx}  (429: ${counts.busy}, 503 TIMEOUT: ${counts.timeout})`,
  );
  console.log(
    `  sockets reset by the server (asked again): ${counts.resets}; other network failures: ${counts.network}`,
  );
  console.log(`  service peak RSS: ${peak.toFixed(0)} MB`);
  console.log(`  first roll-forward of all accounts (fills the sums by day): ${filling}`);
  console.log(`  roll-forward pages (by account by day, ${from} to ${to}, limit=1000 asked):`);
  for (const p of pages) {
    console.log(`    #${p.n} page ${p.page}: ${p.status}, ${p.accounts ?? '-'} accounts, ${p.ms.toFixed(0)} ms`);
  }
  const spread = (list) => {
    const ms = list.map((p) => p.ms).sort((a, b) => a - b);
    if (ms.length === 0) return '-';
    const s = (v) => (v / 1000).toFixed(1);
    return `${s(ms[0])} to ${s(ms[ms.length - 1])} s, median ${s(ms[Math.floor(ms.length / 2)])} s, ${ms.filter((v) => v < 2000).length} of ${ms.length} under 2 s`;
  };
  console.log(`  first pages: ${spread(pages.filter((p) => p.page === 1))}`);
  console.log(`  pages after the first: ${spread(pages.filter((p) => p.page > 1))}`);
  console.log(`  all pages: ${spread(pages)}`);
  console.log('  simulations over the whole range:');
  for (const s of simulations) console.log(`    ${s.status}, ${s.records ?? '-'} records, ${s.ms.toFixed(0)} ms`);
}

/** The database `name` on the server, made when missing and kept: drop() leaves it. */
async function keptDatabase(serverUrl, name) {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error('BENCH_HEAVY_DATABASE: a lowercase identifier');
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
  if (rowCount === 0) await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  return { name, url: withDatabase(serverUrl, name), drop: async () => {} };
}
