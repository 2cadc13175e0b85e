// npm run bench:plain-client: the record route as a plain load generator measures it, beside pgbench
// TPC-B at scales 10 and 32 on the same server. Nothing is done to the database that a client would
// not do: the service starts with its defaults (throttling and logging included; NODE_ENV=production),
// its 1,000 users get their credits through POST /api/credits/allocate, no ANALYZE or VACUUM is run by
// the bench, and the records are 32 connections of one credit each, by an admin's token naming a
// random user of 1,000 and by a service key naming one of 1,000 or of 200. Measured fresh, then again after
// PLAIN_FILL events (default 600,000) through the batch route have filled the database.
// PLAIN_SOCKET_DIR=/var/run/postgresql connects the service and pgbench through PostgreSQL's Unix
// socket in that folder instead of TCP on 127.0.0.1.
// PLAIN_ENV='{"TABLE_UPKEEP":"off"}' runs the service with other settings (as a server whose
// autovacuum is off would be without the service's own upkeep).
import autocannon from 'autocannon';
import pg from 'pg';

import { accessToken, freshDatabase, log, pgbench, startServer, startService, tpsOf } from './lib.mjs';
import { processCpuSeconds } from './measure.mjs';

const CONNECTIONS = 32;
const DURATION = Number(process.env.PLAIN_DURATION ?? 10);
const ROUNDS = Number(process.env.PLAIN_ROUNDS ?? 2);
const FILL = Number(process.env.PLAIN_FILL ?? 600_000);
const USERS = 1000;
const SCALES = ['10', '32'];
const VARIANTS = [
  { name: 'admin token, 1,000 users', users: 1000, byKey: false },
  { name: 'service key, 1,000 users', users: 1000, byKey: true },
  { name: 'service key, 200 users', users: 200, byKey: true },
];
const TARGET = 0.6;

const SOCKET_DIR = process.env.PLAIN_SOCKET_DIR;
/** A database's URL as the service and pgbench reach it: through the Unix socket where one is named. */
const reach = (db) => (SOCKET_DIR ? `postgres://postgres@/${db.name}?host=${encodeURIComponent(SOCKET_DIR)}` : db.url);

const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;

const server = await startServer();
const database = await freshDatabase(server.url, 'plain_client');
const scratch = {};
for (const scale of SCALES) {
  scratch[scale] = await freshDatabase(server.url, `plain_client_pgbench_${scale}`);
  log(`pgbench -i -s ${scale} ...`);
  pgbench(['-i', '-q', '-s', scale, reach(scratch[scale])]);
}
// What a plain start has: lib.mjs's bench settings (no throttling, warn-level logs) taken back out.
const service = await startService(reach(database), {
  THROTTLE_LIMIT: undefined,
  THROTTLE_AUTH_FAILURE_LIMIT: undefined,
  LOG_LEVEL: undefined,
  ...JSON.parse(process.env.PLAIN_ENV ?? '{}'),
});
const db = new pg.Pool({ connectionString: database.url, max: 1 });
const rows = [];
try {
  const admin = `Bearer ${accessToken('plain-admin', 'admin')}`;
  const post = async (path, body) => {
    const res = await fetch(`${service.base}${path}`, {
      method: 'POST',
      headers: { authorization: admin, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (res.status >= 300) throw new Error(`${path}: ${res.status} ${await res.text()}`);
    return res.json();
  };
  const key = (await post('/api/api-keys', { name: 'plain-client', permissions: ['usage:ingest'] })).key;
  log(`granting credits to ${USERS} users through the API ...`);
  for (let i = 1; i <= USERS; i++) {
    await post('/api/credits/allocate', {
      userId: `u${i}`,
      email: `u${i}@example.com`,
      username: `u${i}`,
      credits: 1e9,
    });
  }

  const tpcb = (scale) =>
    tpsOf(pgbench(['-c', String(CONNECTIONS), '-j', '2', '-T', String(DURATION), reach(scratch[scale])]));
  const record = async ({ users, byKey }) => {
    const before = processCpuSeconds(service.pid);
    const result = await autocannon({
      url: service.base,
      connections: CONNECTIONS,
      duration: DURATION,
      requests: [
        {
          method: 'POST',
          path: '/api/usage/record',
          setupRequest: (req) => ({
            ...req,
            headers: {
              'content-type': 'application/json',
              ...(byKey ? { 'x-api-key': key } : { authorization: admin }),
            },
            body: JSON.stringify({
              userId: `u${1 + Math.floor(Math.random() * users)}`,
              service: 'chat',
              operation: 'completion',
              credits: 1,
            }),
          }),
        },
      ],
    });
    const ok = result['2xx'];
    return {
      rate: ok / DURATION,
      failed: result.non2xx + result.errors,
      cpuMicros: ((processCpuSeconds(service.pid) - before) * 1e6) / ok,
    };
  };

  /** ROUNDS rounds, each TPC-B at both scales then every variant: rates side by side in time. */
  const measure = async (state) => {
    const tps = Object.fromEntries(SCALES.map((s) => [s, []]));
    const runs = VARIANTS.map(() => []);
    for (let round = 0; round < ROUNDS; round++) {
      for (const s of SCALES) tps[s].push(tpcb(s));
      for (const [i, variant] of VARIANTS.entries()) {
        log(`${state}, round ${round + 1}: ${variant.name} ...`);
        runs[i].push(await record(variant));
      }
    }
    const { rows: size } = await db.query(`SELECT pg_size_pretty(pg_database_size(current_database())) AS size`);
    for (const [i, variant] of VARIANTS.entries()) {
      const rate = mean(runs[i].map((r) => r.rate));
      rows.push({
        state: `${state} (${size[0].size})`,
        variant: variant.name,
        rate,
        rounds: runs[i].map((r) => Math.round(r.rate)),
        cpuMicros: mean(runs[i].map((r) => r.cpuMicros)),
        failed: runs[i].reduce((n, r) => n + r.failed, 0),
        ratios: Object.fromEntries(SCALES.map((s) => [s, rate / mean(tps[s])])),
        tps: Object.fromEntries(SCALES.map((s) => [s, Math.round(mean(tps[s]))])),
      });
    }
  };

  await measure('fresh');
  log(`filling: ${FILL.toLocaleString('en')} events through POST /api/usage/records/batch ...`);
  let sent = 0;
  const fill = async () => {
    while (sent < FILL) {
      const start = sent;
      sent += 1000;
      const events = Array.from({ length: 1000 }, (_, j) => ({
        eventId: `fill-${start + j}`,
        userId: `u${1 + ((start + j) % USERS)}`,
        service: 'chat',
        operation: 'completion',
        credits: 1,
      }));
      await post('/api/usage/records/batch', { events });
    }
  };
  await Promise.all(Array.from({ length: 4 }, fill));
  await measure('filled');
} finally {
  await db.end();
  await service.stop();
}
await database.drop();
for (const s of SCALES) await scratch[s].drop();
await server.stop();

const fmt = (n) => Math.round(n).toLocaleString('en');
console.log(
  `\nThe record as a plain client measures it (${CONNECTIONS} connections, ${ROUNDS} rounds of ${DURATION} s)\n`,
);
console.log('| database | caller | record/s (rounds) | service CPU a record | failed | × TPC-B s10 | × TPC-B s32 |');
console.log('| --- | --- | --- | --- | --- | --- | --- |');
for (const r of rows) {
  console.log(
    `| ${r.state} | ${r.variant} | ${fmt(r.rate)} (${r.rounds.map(fmt).join('/')}) | ${fmt(r.cpuMicros)} µs | ${r.failed} | ` +
      `${r.ratios['10'].toFixed(2)}× (${fmt(r.tps['10'])}) | ${r.ratios['32'].toFixed(2)}× (${fmt(r.tps['32'])}) |`,
  );
}
const met = rows.every((r) => r.ratios['10'] >= TARGET);
console.log(
  `\nTarget: the record ≥ ${TARGET}× TPC-B (scale 10) by every caller, fresh and filled: ` +
    `${rows.map((r) => `${r.ratios['10'].toFixed(2)}×`).join(', ')} — ${met ? 'met' : 'NOT met'}`,
);
