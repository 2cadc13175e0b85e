// npm run bench:stats: 1,000,000 usage records (1,000 users, 90 days) seeded by SQL, then the time of
// /stats, /stats/:userId and /system-stats, a full CSV export, and the service's peak RSS.
import pg from 'pg';

import { accessToken, freshDatabase, log, seedUsers, startServer, startService } from './lib.mjs';

const RECORDS = Number(process.env.BENCH_RECORDS ?? 1_000_000);
const USERS = 1000;
const RUNS = 5;

const server = await startServer();
log(`database server: ${server.kind}`);
const database = await freshDatabase(server.url, 'accounting_bench_stats');
const service = await startService(database.url);
const db = new pg.Pool({ connectionString: database.url, max: 2 });
const rows = [];
let memory;
try {
  await seedUsers(db, USERS, 0);
  log(`seeding ${RECORDS} usage records...`);
  const started = Date.now();
  // 1,000 users × 90 days; 5 services, 4 models (a fifth of the records without one), provider costs.
  await db.query(
    `INSERT INTO usage_records (user_id, "timestamp", service, operation, credits, model_id, tokens, pricing_rule_id, provider_cost,
                                account_id)
     SELECT 'bench-' || (1 + (g * 7919) % ${USERS}),
            now() - ((g * 104729) % (90 * 86400)) * interval '1 second',
            (ARRAY['chat', 'chat-streaming', 'embeddings', 'images', 'chat-streaming-aborted'])[1 + g % 5],
            (ARRAY['completion', 'summarise', 'translate'])[1 + g % 3],
            1 + (g * 31) % 200,
            CASE WHEN g % 5 = 0 THEN NULL
                 ELSE (ARRAY['anthropic.claude-3-sonnet-20240229-v1:0', 'anthropic.claude-3-haiku-20240307-v1:0',
                             'anthropic.claude-instant-v1', 'amazon.titan-text-express-v1'])[1 + (g / 5) % 4] END,
            (g * 13) % 4000,
            NULL,
            CASE WHEN g % 5 = 0 THEN NULL ELSE ((g * 13) % 4000) * 0.0015 / 1000 END,
            (SELECT a.account_id FROM accounts a WHERE a.user_id = 'bench-' || (1 + (g * 7919) % ${USERS}))
       FROM generate_series(1::bigint, ${RECORDS}::bigint) g`,
  );
  // The triggers left the records' rollup deltas pending; fold them as the 30-second job would.
  await db.query('SELECT usage_rollup_compact()');
  await db.query('VACUUM ANALYZE usage_records, usage_daily_users, usage_daily_totals, usage_rollup_pending');
  log(`seeded in ${((Date.now() - started) / 1000).toFixed(1)} s`);

  const user = `Bearer ${accessToken('bench-1')}`;
  const supervisor = `Bearer ${accessToken('bench-supervisor', 'supervisor')}`;
  const admin = `Bearer ${accessToken('bench-admin', 'admin')}`;
  const day = (d) => new Date(Date.now() - d * 86_400_000).toISOString().slice(0, 10);

  async function time(name, path, auth) {
    const ms = [];
    let body;
    for (let i = 0; i < RUNS; i++) {
      const t0 = performance.now();
      const res = await fetch(`${service.base}${path}`, { headers: { authorization: auth } });
      body = await res.json();
      ms.push(performance.now() - t0);
      if (!res.ok) throw new Error(`${path}: ${res.status} ${JSON.stringify(body)}`);
    }
    const sorted = [...ms].sort((a, b) => a - b);
    rows.push({
      request: name,
      'first ms': Math.round(ms[0]),
      'median ms': Math.round(sorted[Math.floor(RUNS / 2)]),
      'max ms': Math.round(sorted[RUNS - 1]),
      records: body.totalRecords,
    });
  }

  await time('GET /api/usage/stats (one user, all time)', '/api/usage/stats', user);
  await time('GET /api/usage/stats/:userId (30 days)', `/api/usage/stats/bench-2?startDate=${day(30)}`, supervisor);
  await time('GET /api/usage/system-stats (all 90 days)', '/api/usage/system-stats', admin);
  await time(
    'GET /api/usage/system-stats (30 days, top 1000)',
    `/api/usage/system-stats?startDate=${day(30)}&topUsers=1000`,
    admin,
  );

  const beforeCsv = await service.peakRssMb();
  const t0 = performance.now();
  const res = await fetch(`${service.base}/api/usage/records?format=csv`, { headers: { authorization: admin } });
  let bytes = 0;
  let lines = 0;
  for await (const chunk of res.body) {
    bytes += chunk.length;
    for (const b of chunk) if (b === 10) lines++;
  }
  const csvMs = performance.now() - t0;
  memory = {
    'peak RSS before CSV (MB)': Math.round(beforeCsv),
    'peak RSS after CSV (MB)': Math.round(await service.peakRssMb()),
    csv: `${lines - 1} rows, ${(bytes / 1e6).toFixed(0)} MB in ${(csvMs / 1000).toFixed(1)} s`,
  };
} finally {
  await db.end();
  await service.stop();
  await database.drop();
  await server.stop();
}

console.log(
  `\nStatistics on ${RECORDS.toLocaleString('en')} usage records (${USERS} users, 90 days), ${RUNS} runs each\n`,
);
console.table(rows);
console.table(memory);
