#!/usr/bin/env node
// npm run test:ha — the high-availability demonstration described in docs/operations.md.
// Starts on 127.0.0.1 a pg_auto_failover monitor and 3 data nodes (one synchronous standby),
// HAProxy in front (writes go to the node that takes them), two service instances behind it;
// drives metered load with Idempotency-Keys; kills the primary's postmaster, then a whole node;
// then proves every acknowledged record exists exactly once, the credit invariants and reconcile
// hold, and reports how long writes were unavailable. Needs root (or the postgres user) and:
//   apt-get install -y postgresql-15-auto-failover haproxy
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import jwt from 'jsonwebtoken';
import pg from 'pg';

import { freePort, log, ROOT } from '../../bench/lib.mjs';
import {
  Formation,
  missingPrerequisites,
  Processes,
  query,
  signal,
  waitFor,
  writable,
  writeHaproxyConfig,
} from './cluster.mjs';
import { MeteredLoad } from './load.mjs';
import { verify } from './verify.mjs';

const JWT_SECRET = 'ha-demo-secret-that-is-long-enough-0123456789';
const WEBHOOK_SECRET_KEY = 'ha-demo-webhook-key-that-is-long-enough-0123456789';
const METRICS_TOKEN = 'ha-demo-metrics-token-0123456789';
/** Monitor settings (ms): failure detection in seconds rather than the defaults' ~50 s. */
const MONITOR_TUNING = {
  health_check_period: 1000,
  health_check_timeout: 1000,
  health_check_max_retries: 1,
  health_check_retry_delay: 500,
  node_considered_unhealthy_timeout: 5000,
  primary_demote_timeout: 8000,
};
/** Keeper (s): a primary cut off from monitor and standbys demotes itself before the monitor promotes another. */
const KEEPER_NETWORK_PARTITION_TIMEOUT = 5;
const USERS = 12;
const GRANT = 10_000_000;
const WORKERS = 6;
const PACE_MS = 20;
const STEADY_MS = 8000;
/** How long the restarted old primary takes connections before its keeper is released. */
const OLD_PRIMARY_SERVES_MS = 1500;
/** HAProxy's check interval. */
const CHECK_MS = 500;
/** How long the primary's walsenders are held before it crashes: commits it flushes meanwhile reach no standby. */
const REPLICATION_STALL_MS = 300;
/** Goal states of a standby the monitor has chosen to promote. */
const PROMOTING = ['prepare_promotion', 'stop_replication', 'wait_primary', 'primary'];
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const sign = (claims) => jwt.sign({ type: 'access', ...claims }, JWT_SECRET, { algorithm: 'HS256', expiresIn: 3600 });

async function main() {
  const missing = missingPrerequisites();
  if (missing) {
    log(`test:ha needs: ${missing.join(', ')}.\nInstall with: apt-get install -y postgresql-15-auto-failover haproxy`);
    process.exit(2);
  }
  const dir = await mkdtemp(path.join(tmpdir(), 'accounting-ha-'));
  await chmod(dir, 0o755);
  const procs = new Processes(dir);
  await procs.ownDirectory();
  let cleaned = false;
  const cleanup = async () => {
    if (cleaned) return;
    cleaned = true;
    await procs.stopAll();
    if (process.env.HA_KEEP) log(`kept ${dir}`);
    else await rm(dir, { recursive: true, force: true });
  };
  process.once('SIGINT', () => void cleanup().then(() => process.exit(130)));
  try {
    const results = await demo(procs);
    await writeFile(path.join(ROOT, 'ha-results.json'), `${JSON.stringify(results, null, 2)}\n`);
    process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
    log(results.verdict.ok ? 'HA demo: PASSED' : 'HA demo: FAILED');
    if (!results.verdict.ok) {
      process.exitCode = 1;
      // The logs (monitor, keepers, PostgreSQL, HAProxy, services) are the evidence: keep them.
      process.env.HA_KEEP = '1';
    }
  } catch (error) {
    log(`HA demo failed: ${error.stack ?? error}`);
    log(`logs: ${dir} (kept)`);
    process.env.HA_KEEP = '1';
    process.exitCode = 1;
  } finally {
    await cleanup();
  }
}

async function demo(procs) {
  const ports = { monitor: await freePort(), nodes: [await freePort(), await freePort(), await freePort()] };
  const formation = new Formation(procs, ports);
  const started = Date.now();

  log('monitor…');
  await formation.startMonitor(MONITOR_TUNING);
  for (let i = 0; i < 3; i++) {
    log(`node${i + 1}…`);
    formation.startNode(i);
    await waitFor(`node${i + 1} to join`, async () => (await formation.stable(i + 1)) !== null, 180_000, 500);
  }
  for (let i = 0; i < 3; i++) {
    const pgdata = formation.pgdata(`node${i + 1}`);
    await procs.exec('pg_autoctl', [
      'config',
      'set',
      '--pgdata',
      pgdata,
      'timeout.network_partition_timeout',
      String(KEEPER_NETWORK_PARTITION_TIMEOUT),
    ]);
    await procs.exec('pg_autoctl', ['reload', '--pgdata', pgdata]);
  }
  await formation.setNumberSyncStandbys(1);
  const primaryUrl = (port) => `postgres://postgres@127.0.0.1:${port}/accounting`;
  const syncStandbys = async () => {
    const primary = (await formation.stable(3).catch(() => null)) ?? (await formation.stable(2));
    if (!primary) return null;
    const rows = await query(
      primaryUrl(primary.port),
      `SELECT application_name, sync_state FROM pg_stat_replication ORDER BY 1`,
    );
    return { primary: primary.name, primaryPort: primary.port, standbys: rows };
  };
  const before = await waitFor('a synchronous standby', async () => {
    const s = await syncStandbys();
    return s && s.standbys.some((r) => ['sync', 'quorum'].includes(r.sync_state)) ? s : null;
  });

  const commitCost = await syncCommitCost(primaryUrl(before.primaryPort));

  log('haproxy…');
  const writePort = await freePort();
  const cfg = await writeHaproxyConfig(procs.dir, { writePort, nodePorts: ports.nodes, checkMs: CHECK_MS });
  procs.start('haproxy', '/usr/sbin/haproxy', ['-db', '-f', cfg], { asPostgres: false });
  const databaseUrl = primaryUrl(writePort);
  await waitFor(
    'HAProxy to reach the primary',
    async () => (await query(databaseUrl, 'SELECT NOT pg_is_in_recovery() AS w'))[0].w,
  );

  log('service instances…');
  const appPorts = [await freePort(), await freePort()];
  const baseUrls = appPorts.map((p) => `http://127.0.0.1:${p}`);
  for (const [i, port] of appPorts.entries()) {
    procs.start(`app${i + 1}`, process.execPath, [path.join(ROOT, 'dist/src/main.js')], {
      asPostgres: false,
      env: {
        NODE_ENV: 'production',
        PORT: String(port),
        DATABASE_URL: databaseUrl,
        DB_MIGRATIONS_RUN: i === 0 ? 'true' : 'false',
        JWT_ACCESS_SECRET: JWT_SECRET,
        WEBHOOK_SECRET_KEY,
        METRICS_TOKEN,
        THROTTLE_LIMIT: '10000000',
        DB_POOL_SIZE: '10',
        LOG_LEVEL: 'warn',
        SHUTDOWN_GRACE_MS: '0',
      },
    });
    await waitFor(`app${i + 1}`, async () => (await fetch(`${baseUrls[i]}/api/health/ready`)).ok, 120_000, 300);
  }

  log('seeding…');
  const admin = sign({ sub: 'ha-admin', role: 'admin' });
  const users = [];
  for (let u = 0; u < USERS; u++) {
    const id = `ha-user-${u}`;
    const user = { id, jwt: sign({ sub: id }) };
    await expectStatus(fetch(`${baseUrls[0]}/api/users/me`, { headers: { Authorization: `Bearer ${user.jwt}` } }), 200);
    await expectStatus(
      fetch(`${baseUrls[0]}/api/credits/allocate`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${admin}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ userId: id, credits: GRANT, expiryDays: 30 }),
      }),
      201,
    );
    users.push(user);
  }

  log('load…');
  const load = new MeteredLoad({ baseUrls, serviceJwt: admin, users, workers: WORKERS, paceMs: PACE_MS });
  const loadStarted = Date.now();
  load.start();
  await sleep(STEADY_MS);
  const steady = load.latency(loadStarted + 1000, Date.now());

  const events = [];
  const writesBack = (since) =>
    waitFor(
      'writes to be acknowledged again',
      () => [...load.acked.values()].some((a) => a.sentAt >= since),
      180_000,
      100,
    );

  // 1. The primary crashes with WAL its standbys never received, and comes back after a standby was
  // chosen to replace it: the dangerous path, forced every run (docs/operations.md, "The first fault").
  const p1 = await formation.stable(3);
  const pid = formation.postmasterPid(p1.name);
  const keeper = await formation.keeperPids(p1.name);
  const senders = await formation.walsenderPids(pid);
  log(`stall replication from ${p1.name} for ${REPLICATION_STALL_MS} ms, then kill -9 its postmaster (pid ${pid})…`);
  const kill1 = Date.now();
  // Its keeper is held (SIGSTOP): it can neither restart PostgreSQL nor join the election.
  signal([...keeper.others, ...keeper.reporter], 'SIGSTOP');
  // Its walsenders are held: commits flush locally and wait for a standby that never gets them.
  signal(senders, 'SIGSTOP');
  await sleep(REPLICATION_STALL_MS);
  process.kill(pid, 'SIGKILL');
  signal(senders, 'SIGKILL');
  const chosen = await waitFor(
    'the monitor to choose a standby',
    async () => (await formation.nodes()).find((n) => n.name !== p1.name && PROMOTING.includes(n.goal)),
    60_000,
    100,
  );
  // It comes back as the primary it was, with its unreplicated tail: PostgreSQL restarted on its data
  // directory, as its keeper does after a crash (started here, so it happens every run: a keeper that
  // learns of the election first stops it instead). Once HAProxy sends it connections, its keeper is
  // released, learns from the monitor that it has been replaced and stops it.
  const released = Date.now();
  await waitFor('the old primary to restart', () => formation.restartPostgres(p1.name, p1.port, pid), 30_000, 200);
  const servedAt = await waitFor(
    'HAProxy to send connections to the restarted old primary',
    async () => (await query(databaseUrl, 'SELECT inet_server_port() AS port'))[0].port === p1.port && Date.now(),
    30_000,
    50,
  ).catch(() => null);
  // It serves about as long as the unforced case did (about 2 s, docs/operations.md), so retries of
  // the keys that were in flight at the crash reach it.
  if (servedAt !== null) await sleep(OLD_PRIMARY_SERVES_MS);
  signal([...keeper.others, ...keeper.reporter], 'SIGCONT');
  const servedUntil = servedAt === null ? null : await writableUntil(p1.port);
  const oldPrimary =
    servedAt === null
      ? { servedWrites: false }
      : {
          servedWrites: true,
          servedAfterReleaseSeconds: (servedAt - released) / 1000,
          writableForSeconds: (servedUntil - servedAt) / 1000,
          // Requests sent to either instance while HAProxy may have sent them to it, by answer.
          attemptsMeanwhile: load.answersBetween(servedAt - CHECK_MS, servedUntil + CHECK_MS),
        };
  await writesBack(kill1);
  const settled1 = await waitFor('the formation to settle', () => formation.stable(3), 180_000, 250);
  events.push({
    event: `replication from the primary (${p1.name}) stalled ${REPLICATION_STALL_MS} ms, then its postmaster killed; its keeper held until ${chosen.name} was chosen`,
    killedAt: new Date(kill1).toISOString(),
    standbyChosenAfterSeconds: (released - kill1) / 1000,
    oldPrimaryAfterRelease: oldPrimary,
    primaryAfter: settled1.name,
    formationSettledAfterSeconds: (Date.now() - kill1) / 1000,
    ...load.outage(kill1),
  });
  await sleep(STEADY_MS);

  // 2. The whole primary node is lost: keeper and PostgreSQL, at once.
  const p2 = await formation.stable(3);
  log(`kill -9 the whole node ${p2.name}…`);
  const kill2 = Date.now();
  procs.killGroup(p2.name);
  await writesBack(kill2);
  const settled2 = await waitFor('the formation to settle on 2 nodes', () => formation.stable(2), 180_000, 250);
  events.push({
    event: `whole primary node (${p2.name}) killed`,
    killedAt: new Date(kill2).toISOString(),
    primaryAfter: settled2.name,
    formationSettledAfterSeconds: (Date.now() - kill2) / 1000,
    ...load.outage(kill2),
  });
  const after = await waitFor('a synchronous standby after the failover', async () => {
    const s = await syncStandbys();
    return s && s.standbys.some((r) => ['sync', 'quorum'].includes(r.sync_state)) ? s : null;
  });
  await sleep(STEADY_MS);

  log('stopping the load (every key in flight is retried until acknowledged)…');
  await load.stop();
  const checks = await verify({
    databaseUrl,
    baseUrl: baseUrls[1],
    adminJwt: admin,
    load,
    users: users.map((u) => u.id),
    grant: GRANT,
  });
  const monitorSettings = await query(
    formation.adminMonitorUrl,
    `SELECT name, setting, unit FROM pg_settings WHERE name LIKE 'pgautofailover.%' ORDER BY name`,
  );
  return {
    ranAt: new Date(started).toISOString(),
    durationSeconds: Math.round((Date.now() - started) / 1000),
    topology: {
      monitor: 1,
      dataNodes: 3,
      numberSyncStandbys: 1,
      haproxyCheckMs: CHECK_MS,
      serviceInstances: 2,
      workers: WORKERS,
    },
    syncReplication: { before, after },
    syncCommitCost: commitCost,
    steadyLatencyMs: steady,
    events,
    writes: {
      acknowledged: load.acked.size,
      attempts: load.attempts.length,
      failedAttempts: load.attempts.filter((a) => !a.ok).length,
    },
    checks,
    verdict: { ok: Object.values(checks).every((c) => c.ok) },
    settings: { monitor: monitorSettings, keeperNetworkPartitionTimeoutSeconds: KEEPER_NETWORK_PARTITION_TIMEOUT },
  };
}

/** When a node stops answering as a writable primary (polled every 50 ms, for up to 30 s). */
async function writableUntil(port) {
  const started = Date.now();
  let last = started;
  while (Date.now() - started < 30_000 && (await writable(port))) {
    last = Date.now();
    await sleep(50);
  }
  return last;
}

/**
 * What the synchronous standby costs per commit: median of single-row INSERT commits on the primary
 * with synchronous_commit on (waits for the standby) and local (does not), interleaved.
 */
async function syncCommitCost(url) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(
      'CREATE TABLE IF NOT EXISTS ha_commit_probe (id bigserial PRIMARY KEY, at timestamptz DEFAULT now())',
    );
    const times = { on: [], local: [] };
    for (let i = 0; i < 400; i++) {
      const mode = i % 2 === 0 ? 'on' : 'local';
      await client.query(`SET synchronous_commit = ${mode}`);
      const t0 = process.hrtime.bigint();
      await client.query('INSERT INTO ha_commit_probe DEFAULT VALUES');
      times[mode].push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    await client.query('DROP TABLE ha_commit_probe');
    const median = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    const on = median(times.on);
    const local = median(times.local);
    return {
      medianCommitMsSync: Number(on.toFixed(2)),
      medianCommitMsLocal: Number(local.toFixed(2)),
      costMs: Number((on - local).toFixed(2)),
    };
  } finally {
    await client.end();
  }
}

async function expectStatus(responsePromise, status) {
  const res = await responsePromise;
  if (res.status !== status) throw new Error(`${res.url}: ${res.status} ${await res.text()}`);
  return res;
}

await main();
