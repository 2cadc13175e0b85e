// npm run bench:server-instructions -- [ref …] [--warm N] [--requests N]: the PostgreSQL
// instructions of a user's record alone (one connection, a record after another, the user's own JWT,
// METERING_TRUST=users, as bench:stages sends it) through the built service, counted by valgrind's
// callgrind over the whole server: every backend the service opens, the statement and what surrounds
// it (the protocol, the commit). Each ref (`.`: this checkout, the default; another commit: built by
// bench/builds.mjs) gets a fresh cluster, seeded with 1,000 users by a server at full speed, then
// restarted under callgrind. A backend writes its count when it exits, so the service runs twice on
// it: `--warm` records (300), and `--warm` plus `--requests` (3,000); the difference, divided by
// `--requests`, is what a record costs once its backend has planned its statements and compiled its
// functions. The service counted holds one connection (DB_POOL_SIZE=1): with its usual pool the
// records spread over two to six connections from run to run, each paying that warm-up, and a count
// moved by 2 %. Needs valgrind and PostgreSQL's server binaries (PG_BIN, else
// `pg_config --bindir`); runs as root (the server as the postgres user) or as a user who may run it.
// About 5 minutes a ref.
import { execFileSync, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

import pg from 'pg';

import { buildOf } from './builds.mjs';
import { freePort, log, recordsAlone, ROOT, startService } from './lib.mjs';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { warm: { type: 'string', default: '300' }, requests: { type: 'string', default: '3000' } },
});
const WARM = Number(values.warm);
const REQUESTS = Number(values.requests);
const refs = positionals.length > 0 ? positionals : ['.'];
const BIN = process.env.PG_BIN ?? execFileSync('pg_config', ['--bindir'], { encoding: 'utf8' }).trim();
const asRoot = process.getuid?.() === 0;
/** A server binary run as the postgres user when this runs as root (PostgreSQL refuses root). */
const asServer = (command, args) =>
  asRoot ? ['runuser', ['-u', 'postgres', '--', command, ...args]] : [command, args];
const run = (command, args) => execFileSync(...asServer(command, args), { stdio: 'ignore' });
const USER_ENV = { JOBS_ENABLED: 'false', METERING_TRUST: 'users' };
/** The instructions of the backends that exited since `before` (their callgrind files' totals). */
async function exitedSince(out, before) {
  let total = 0;
  for (const file of await readdir(out)) {
    if (before.has(file)) continue;
    const text = await readFile(path.join(out, file), 'utf8');
    total += Number(/^(?:summary|totals): (\d+)/m.exec(text)?.[1] ?? 0);
  }
  return total;
}

async function count(ref) {
  const root = ref === '.' ? ROOT : buildOf(ref);
  const dir = await mkdtemp(path.join(tmpdir(), 'accounting-server-instructions-'));
  const data = path.join(dir, 'data');
  const out = path.join(dir, 'callgrind');
  const port = await freePort();
  const options = ['-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1', '-c', 'autovacuum=off'];
  const url = `postgres://postgres@127.0.0.1:${port}/bench`;
  let server;
  try {
    await mkdir(out);
    if (asRoot) execFileSync('chown', ['-R', 'postgres', dir]);
    run(path.join(BIN, 'initdb'), ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync']);
    // Migrated and seeded at full speed.
    run(path.join(BIN, 'pg_ctl'), ['-D', data, '-w', '-o', options.join(' '), '-l', path.join(dir, 'log'), 'start']);
    const admin = new pg.Client({ connectionString: `postgres://postgres@127.0.0.1:${port}/postgres` });
    await admin.connect();
    await admin.query('CREATE DATABASE bench');
    await admin.end();
    const seeding = await startService(url, USER_ENV, { root });
    const db = new pg.Pool({ connectionString: url, max: 2 });
    await (await import(path.join(root, 'bench/lib.mjs'))).seedUsers(db, 1000, 1_000_000_000);
    await db.end();
    await seeding.stop();
    run(path.join(BIN, 'pg_ctl'), ['-D', data, '-w', 'stop']);
    // The same cluster under callgrind: each backend it forks writes its own file when it exits.
    const callgrind = ['valgrind', '--tool=callgrind', `--callgrind-out-file=${out}/callgrind.%p`];
    server = spawn(
      ...asServer(callgrind[0], [...callgrind.slice(1), path.join(BIN, 'postgres'), '-D', data, ...options]),
      {
        stdio: 'ignore',
      },
    );
    for (let ready = false; !ready;) {
      const probe = new pg.Client({ connectionString: url });
      ready = await probe.connect().then(
        () => probe.end().then(() => true),
        () => new Promise((resolve) => setTimeout(() => resolve(false), 1000)),
      );
    }
    const sessions = [];
    for (const amount of [WARM, WARM + REQUESTS]) {
      const before = new Set(await readdir(out));
      const service = await startService(url, { ...USER_ENV, DB_POOL_SIZE: '1' }, { root, readyWithinMs: 600_000 });
      // Any answer but 201 stops the count.
      await recordsAlone(service.base, amount).finally(() => service.stop());
      // The service's connections closed: their backends write their files as they exit.
      await new Promise((resolve) => setTimeout(resolve, 3000));
      sessions.push(await exitedSince(out, before));
    }
    return Math.round((sessions[1] - sessions[0]) / REQUESTS);
  } finally {
    if (server) {
      run(path.join(BIN, 'pg_ctl'), ['-D', data, '-w', '-m', 'fast', 'stop']);
      await new Promise((resolve) => (server.exitCode !== null ? resolve() : server.once('exit', resolve)));
    }
    await rm(dir, { recursive: true, force: true });
  }
}

const counted = [];
for (const ref of refs) {
  log(`${ref}: counting ${WARM} then ${WARM + REQUESTS} records alone under callgrind ...`);
  counted.push([ref, await count(ref)]);
}
console.log(`\nPostgreSQL instructions a record alone, through the service (${REQUESTS} records after ${WARM}):`);
for (const [ref, n] of counted) {
  const ratio = counted.length > 1 ? ` (${(n / counted[0][1]).toFixed(3)}× ${counted[0][0]})` : '';
  console.log(`  ${ref}: ${n.toLocaleString('en-US')}${ratio}`);
}
