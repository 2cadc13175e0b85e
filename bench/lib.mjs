// Shared helpers of the benchmark scripts: a fresh database, the BUILT service, seeding, tokens.
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import http from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import autocannon from 'autocannon';
import jwt from 'jsonwebtoken';
import pg from 'pg';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const JWT_SECRET = 'bench-secret-that-is-long-enough-0123456789abcdef';
/** GET /metrics answers only with this token: the bench reads the service's own CPU counters there. */
export const METRICS_TOKEN = 'bench-metrics-token-that-is-long-enough-0123';
const LOCAL_SERVER = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export const log = (...args) => process.stderr.write(`${args.join(' ')}\n`);

// The service runs on this process's Node (process.execPath). `npm run bench…` puts the project's own
// Node (its `node` dev dependency) first on the PATH; `node bench/….mjs` from a shell may start an
// older one, whose figures are another runtime's: on Node 20 the service spent more than twice the CPU
// a request that it spends on Node 24 (docs/benchmarks.md "How to reproduce").
const [wantMajor, wantMinor] = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')).engines?.node ?? '')
  .match(/(\d+)\.(\d+)/)
  ?.slice(1)
  .map(Number) ?? [0, 0];
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < wantMajor || (major === wantMajor && minor < wantMinor)) {
  log(
    `bench: Node ${process.versions.node} is older than the project's ${wantMajor}.${wantMinor}: the service's figures` +
      " are another runtime's. Run it through npm (`npm run bench…`, or `npm exec -- node bench/….mjs`).",
  );
}

export async function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function reachable(url) {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.end();
    return true;
  } catch {
    return false;
  }
}

/** A PostgreSQL server: the local one on 127.0.0.1:5432 when reachable, else an embedded one. */
export async function startServer() {
  if (await reachable(LOCAL_SERVER)) return { url: LOCAL_SERVER, kind: 'local PostgreSQL', stop: async () => {} };
  const { startEmbeddedPostgres } = await import(path.join(ROOT, 'dist/src/database/server/embedded-postgres.js'));
  const dir = await mkdtemp(path.join(tmpdir(), 'accounting-bench-'));
  await chmod(dir, 0o755);
  const db = await startEmbeddedPostgres({
    dataDir: path.join(dir, 'pg'),
    database: 'postgres',
    persistent: false,
    log: () => undefined,
  });
  return {
    url: db.url,
    kind: 'embedded PostgreSQL',
    stop: async () => {
      await db.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export function withDatabase(serverUrl, name) {
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Creates a fresh database on the server; returns its URL and a drop function. */
export async function freshDatabase(serverUrl, prefix) {
  const name = `${prefix}_${Date.now()}_${randomBytes(3).toString('hex')}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  return {
    name,
    url: withDatabase(serverUrl, name),
    drop: async () => {
      const c = new pg.Client({ connectionString: serverUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

/**
 * Starts dist/src/main.js (migrations run at start-up) and waits until it is ready. `under` runs it
 * under another program (e.g. valgrind and its flags), which then needs a longer `readyWithinMs`;
 * `root` is the build to start (another commit's, bench/builds.mjs), this checkout by default.
 */
// BENCH_READY_MS: how long a service may take to migrate its fresh database and answer (default 60 s;
// a machine loaded by other work can take longer).
export async function startService(
  databaseUrl,
  env = {},
  { under = [], readyWithinMs = Number(process.env.BENCH_READY_MS ?? 60_000), root = ROOT } = {},
) {
  const port = await freePort();
  // BENCH_NODE_ARGS: extra node flags for the service, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof".
  const nodeArgs = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const command = [...under, process.execPath, ...nodeArgs, path.join(root, 'dist/src/main.js')];
  const child = spawn(command[0], command.slice(1), {
    cwd: root,
    env: {
      ...process.env,
      NODE_ENV: 'production',
      PORT: String(port),
      DATABASE_URL: databaseUrl,
      JWT_ACCESS_SECRET: JWT_SECRET,
      WEBHOOK_SECRET_KEY: 'bench-webhook-key-that-is-long-enough-0123456789',
      THROTTLE_LIMIT: '10000000',
      THROTTLE_AUTH_FAILURE_LIMIT: '10000000',
      LOG_LEVEL: 'warn',
      METRICS_TOKEN,
      ...env,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + readyWithinMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`service exited with ${child.exitCode}`);
    try {
      const res = await fetch(`${base}/api/health/ready`);
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      // Not left running (under valgrind it would hold a core until killed by hand).
      child.kill('SIGKILL');
      throw new Error('service did not become ready');
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    base,
    pid: child.pid,
    /** Peak resident memory of the service so far (VmHWM), in MB. */
    peakRssMb: async () => {
      const status = await readFile(`/proc/${child.pid}/status`, 'utf8');
      return Number(/VmHWM:\s+(\d+) kB/.exec(status)[1]) / 1024;
    },
    rssMb: async () => {
      const status = await readFile(`/proc/${child.pid}/status`, 'utf8');
      return Number(/VmRSS:\s+(\d+) kB/.exec(status)[1]) / 1024;
    },
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', resolve);
        child.kill('SIGTERM');
      }),
  };
}

/**
 * autocannon posting to `path` (default the record route) of `base`: `connections` clients back to back
 * for `duration` seconds, each request's JSON body made anew by `body()`, sent with `authorization`.
 */
export const postLoad = ({ base, path: route = '/api/usage/record', connections, duration, authorization, body }) =>
  autocannon({
    url: base,
    connections,
    duration,
    requests: [
      {
        method: 'POST',
        path: route,
        setupRequest: (req) => ({
          ...req,
          headers: { 'content-type': 'application/json', authorization },
          body: JSON.stringify(body()),
        }),
      },
    ],
  });

export const userIds = (n) => Array.from({ length: n }, (_, i) => `bench-${i + 1}`);

/** n users, each with one allocation of `credits` (and its grant ledger entry), by SQL. */
export async function seedUsers(db, n, credits) {
  await db.query(
    `INSERT INTO user_accounts (user_id, email, username, role)
     SELECT 'bench-' || g, 'bench-' || g || '@example.com', 'bench-' || g, 'user' FROM generate_series(1, $1) g
     ON CONFLICT (user_id) DO NOTHING`,
    [n],
  );
  if (credits > 0) {
    // engine-loop.mjs and take-loop.mjs seed a database with the last migrations undone too: before
    // migration 1732000070000 the ledger named the user in user_id and the allocation repeated it.
    const { rows } = await db.query(
      `SELECT EXISTS (SELECT 1 FROM information_schema.columns
                       WHERE table_name = 'credit_ledger' AND column_name = 'member_id') AS renamed`,
    );
    const [owner, person] = rows[0].renamed ? ['', 'member_id'] : ['user_id, ', 'user_id'];
    await db.query(
      `WITH a AS (
         INSERT INTO credit_allocations (account_id, ${owner}total_credits, remaining_credits, allocated_by, expires_at, notes)
         SELECT c.account_id, ${owner ? 'c.user_id, ' : ''}$2, $2, 'system', now() + interval '30 days', 'bench'
           FROM generate_series(1, $1) g JOIN accounts c ON c.user_id = 'bench-' || g
         RETURNING id, account_id, total_credits)
       INSERT INTO credit_ledger (account_id, ${person}, allocation_id, kind, amount, balance_after, created_by)
       SELECT a.account_id, c.user_id, a.id, 'grant', a.total_credits, a.total_credits, 'system'
         FROM a JOIN accounts c ON c.account_id = a.account_id`,
      [n, credits],
    );
  }
  // Statistics, as a database in service has them (autovacuum's) and as pgbench -i leaves its own:
  // without them the service's first plans (kept per connection) scan the tables just seeded.
  await statisticsNow(db);
}

/**
 * The database's statistics brought up to date, as autovacuum keeps them on a database in service.
 * A connection plans a function's statement once, with the table as big as it is then; a bench
 * database grows by thousands of rows a window, and autovacuum analyzes it whenever its minute comes
 * round, in one build's window or another's. So every measured window starts from fresh statistics
 * (docs/benchmarks.md "Statistics before every window").
 */
export async function statisticsNow(db) {
  await db.query('ANALYZE');
}

/**
 * `amount` records alone: users' own (their JWTs, the service started with METERING_TRUST=users, one
 * credit each, as bench:stages sends them), the 1,000 seeded users in a fixed order, one after another
 * on one kept-alive connection, each sent once the one before was answered; throws on any answer but
 * 201. A plain client: autocannon's runs by `amount` end on whole seconds.
 */
export async function recordsAlone(base, amount) {
  const ids = userIds(1000);
  const tokens = ids.map((id) => `Bearer ${accessToken(id)}`);
  const body = JSON.stringify({ service: 'bench', operation: 'op', credits: 1 });
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const url = new URL(base);
  let next = 0;
  const one = () =>
    new Promise((resolve, reject) => {
      const headers = {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
        authorization: tokens[(next++ * 7919) % ids.length],
      };
      const req = http.request(
        { host: url.hostname, port: url.port, path: '/api/usage/record', method: 'POST', agent, headers },
        (res) => {
          res.resume();
          res.on('end', () => (res.statusCode === 201 ? resolve() : reject(new Error(`answered ${res.statusCode}`))));
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  try {
    for (let i = 0; i < amount; i++) await one();
  } finally {
    agent.destroy();
  }
}

/** An access token as the authentication service issues them (the service's JWT format). */
export function accessToken(sub, role = 'user') {
  return jwt.sign({ sub, role, type: 'access', email: `${sub}@example.com`, username: sub }, JWT_SECRET, {
    algorithm: 'HS256',
    expiresIn: 3600,
  });
}

export function hasPgbench() {
  try {
    execFileSync('pgbench', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export function pgbench(args, env = {}) {
  return execFileSync('pgbench', args, {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 64 * 1024 * 1024,
  });
}

/**
 * pgbench's built-in select-only script (`-S`: one primary-key read of pgbench_accounts a
 * transaction) on a `tpcbDatabase`: the database's own read limit, what the service's reads compare
 * with.
 */
export function selectOnly(url, { connections, duration }) {
  log(`pgbench -S -c ${connections} -j 2 -T ${duration} ...`);
  return tpsOf(pgbench(['-S', '-c', String(connections), '-j', '2', '-T', String(duration), url]));
}

/** The transactions per second a pgbench run printed. */
export const tpsOf = (out) => Number(/tps = ([\d.]+)/.exec(out)[1]);

/**
 * pgbench TPC-B on a database `pgbench -i -s 32` made (`tpcbDatabase`), as every bench compares with
 * it: `connections` clients on 2 threads for `duration` seconds; its tps.
 */
export function tpcb(url, { connections, duration }) {
  log(`pgbench TPC-B -c ${connections} -j 2 -T ${duration} ...`);
  return tpsOf(pgbench(['-c', String(connections), '-j', '2', '-T', String(duration), url]));
}

/** A fresh database with pgbench's TPC-B tables at scale 32 (`tpcb` runs on it). */
export async function tpcbDatabase(serverUrl, prefix) {
  const db = await freshDatabase(serverUrl, prefix);
  log('pgbench -i -s 32 ...');
  pgbench(['-i', '-q', '-s', '32', db.url]);
  return db;
}
