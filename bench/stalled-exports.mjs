// npm run bench:exports: ten CSV exports whose clients never read, and what the other routes and
// readiness answer meanwhile. The service runs with DB_POOL_SIZE=4 (as in the incident); BENCH_ENV
// adds variables (e.g. BENCH_ENV='EXPORT_POOL_SIZE=10 EXPORT_STALL_TIMEOUT_MS=60000').
import { Socket } from 'node:net';

import pg from 'pg';

import { accessToken, freshDatabase, log, METRICS_TOKEN, seedUsers, startServer, startService } from './lib.mjs';
import { percentile } from './measure.mjs';

// About 1.1 KB per CSV line: 10,000 records are ~11 MB per export, more than a socket's buffers take.
const RECORDS = Number(process.env.BENCH_RECORDS ?? 10_000);
const STALLED = 10;
const CALLERS = 5; // two exports each: the most one user may have open
const WINDOW_MS = Number(process.env.BENCH_WINDOW_MS ?? 10_000);
const LOOPS = 4;
const END_WITHIN_MS = 45_000;
const extraEnv = Object.fromEntries(
  (process.env.BENCH_ENV ?? '')
    .split(' ')
    .filter(Boolean)
    .map((kv) => kv.split('=')),
);

const server = await startServer();
log(`database server: ${server.kind}`);
const database = await freshDatabase(server.url, 'accounting_bench_exports');
const service = await startService(database.url, { DB_POOL_SIZE: '4', ...extraEnv });
const db = new pg.Pool({ connectionString: database.url, max: 2 });
const sockets = [];
const results = {};
try {
  await seedUsers(db, CALLERS + 1, 1_000_000);
  await db.query(
    `INSERT INTO usage_records (user_id, "timestamp", service, operation, credits, metadata, account_id)
     SELECT 'bench-' || u, now() - g * interval '1 second', 'chat', 'completion-' || g, 0,
            jsonb_build_object('pad', repeat('x', 1000)), (SELECT a.account_id FROM accounts a WHERE a.user_id = 'bench-' || u)
       FROM generate_series(1, ${CALLERS}) u, generate_series(1, ${RECORDS}) g`,
  );
  const url = new URL(service.base);
  const admin = `Bearer ${accessToken('bench-admin', 'admin')}`;
  const other = `Bearer ${accessToken(`bench-${CALLERS + 1}`)}`;

  const routes = [
    ['GET', '/api/credits/balance', other],
    ['GET', '/api/users/me', other],
    ['GET', '/api/usage/records?limit=20', other],
    [
      'POST',
      '/api/usage/record',
      admin,
      { userId: `bench-${CALLERS + 1}`, service: 'chat', operation: 'c', credits: 1 },
    ],
  ];
  const readiness = [['GET', '/api/health/ready']];

  /**
   * For WINDOW_MS: LOOPS clients each sending the other routes in turn, one request after the other,
   * and one more client asking readiness (as a load balancer would, back to back): latency and status
   * of each request.
   */
  async function load(label) {
    const samples = { routes: [], ready: [] };
    const until = Date.now() + WINDOW_MS;
    await Promise.all(
      Array.from({ length: LOOPS + 1 }, async (_, loop) => {
        const list = loop < LOOPS ? routes : readiness;
        for (let i = loop; Date.now() < until; i++) {
          const [method, path, auth, body] = list[i % list.length];
          const t0 = performance.now();
          let status;
          try {
            const res = await fetch(`${service.base}${path}`, {
              method,
              headers: {
                ...(auth ? { authorization: auth } : {}),
                ...(body ? { 'content-type': 'application/json' } : {}),
              },
              body: body ? JSON.stringify(body) : undefined,
              signal: AbortSignal.timeout(30_000),
            });
            await res.arrayBuffer();
            status = res.status;
          } catch {
            status = -1;
          }
          (path === '/api/health/ready' ? samples.ready : samples.routes).push({ ms: performance.now() - t0, status });
        }
      }),
    );
    const summary = (list) => {
      const ms = list.map((s) => s.ms).sort((a, b) => a - b);
      return {
        requests: list.length,
        'not 2xx': list.filter((s) => s.status < 200 || s.status > 299).length,
        'p50 ms': Math.round(percentile(ms, 50)),
        'p99 ms': Math.round(percentile(ms, 99)),
        'max ms': Math.round(ms[ms.length - 1]),
      };
    };
    results[`${label}: other routes`] = summary(samples.routes);
    results[`${label}: readiness`] = summary(samples.ready);
  }

  await load('no export open');

  // Clients that send the request and never read a byte of the answer (Node stops reading the
  // socket past 1 KB, so the kernel's receive window fills and stays full).
  for (let i = 0; i < STALLED; i++) {
    const caller = `bench-${(i % CALLERS) + 1}`;
    const socket = new Socket({ readableHighWaterMark: 1024 });
    socket.on('error', () => undefined);
    socket.connect(Number(url.port), '127.0.0.1');
    socket.pause();
    socket.write(
      `GET /api/usage/records/export HTTP/1.1\r\nHost: 127.0.0.1\r\n` +
        `Authorization: Bearer ${accessToken(caller)}\r\n\r\n`,
    );
    sockets.push(socket);
  }
  const exporting = async () =>
    Number(
      (
        await db.query(
          `SELECT count(*) AS n FROM pg_stat_activity
            WHERE datname = current_database() AND state = 'idle in transaction' AND query LIKE 'FETCH%'`,
        )
      ).rows[0].n,
    );
  // Watches, from the moment the requests went out, how many exports hold a transaction, and when
  // the last one stopped (the clients still read nothing).
  const since = Date.now();
  let open = 0;
  let endedMs = null;
  const watcher = (async () => {
    while (Date.now() - since < END_WITHIN_MS) {
      const n = await exporting();
      open = Math.max(open, n);
      if (open > 0 && n === 0) {
        endedMs = Date.now() - since;
        return;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  while (Date.now() - since < 3000) await new Promise((r) => setTimeout(r, 100));
  results['exports holding a transaction'] = { requests: open };
  log(`${open} exports hold a transaction; measuring for ${WINDOW_MS} ms`);
  await load('ten stalled exports');
  results['exports still holding a transaction after'] = { requests: await exporting() };
  await watcher;
  // What the export requests were answered (a stalled one that was cut off has no answer to count).
  const metrics = await (
    await fetch(`${service.base}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })
  ).text();
  const answered = [
    ...metrics.matchAll(
      /^http_request_duration_seconds_count\{[^}]*route="\/api\/usage\/records\/export",status="(\d+)"\} (\d+)$/gm,
    ),
  ].map((m) => `${m[2]} × ${m[1]}`);
  results['export requests answered'] = { requests: answered.join(', ') || 'none' };
  results['last stalled export ended after (s)'] = {
    requests: endedMs === null ? `> ${END_WITHIN_MS / 1000}` : Number((endedMs / 1000).toFixed(1)),
  };
} finally {
  for (const s of sockets) s.destroy();
  await db.end();
  await service.stop();
  await database.drop();
  await server.stop();
}

console.log(
  `\nTen stalled CSV exports (${CALLERS} users × 2, ${RECORDS} records each), DB_POOL_SIZE=4` +
    `${process.env.BENCH_ENV ? `, ${process.env.BENCH_ENV}` : ''}; other routes: ${LOOPS} clients, readiness: ` +
    `1 client, ${WINDOW_MS / 1000} s each\n`,
);
console.table(results);
