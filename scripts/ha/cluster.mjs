// The processes of the HA demo: a pg_auto_failover monitor and data nodes, HAProxy, service
// instances. Every process listens on 127.0.0.1 only and runs in its own process group, so a
// "whole node" can be killed at once and everything is stopped at the end.
import { execFile, spawn } from 'node:child_process';
import { existsSync, openSync, readFileSync, rmSync } from 'node:fs';
import { chown, writeFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

import pg from 'pg';

import { log, ROOT } from '../../bench/lib.mjs';

const run = promisify(execFile);
export const PG_BIN = process.env.PG_BIN ?? '/usr/lib/postgresql/15/bin';
const AS_ROOT = userInfo().uid === 0;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** What the demo needs on the machine; null when everything is there. */
export function missingPrerequisites() {
  const missing = [];
  if (!existsSync(path.join(PG_BIN, 'pg_ctl'))) missing.push(`PostgreSQL 15 server binaries (${PG_BIN})`);
  if (!existsSync('/usr/bin/pg_autoctl')) missing.push('pg_autoctl (Debian package postgresql-15-auto-failover)');
  if (!existsSync('/usr/sbin/haproxy')) missing.push('haproxy');
  return missing.length ? missing : null;
}

export class Processes {
  constructor(dir) {
    this.dir = dir;
    this.children = new Map();
    this.env = {
      ...process.env,
      PATH: `${PG_BIN}:${process.env.PATH}`,
      // pg_autoctl keeps its configuration and state under XDG directories: inside the demo's directory.
      XDG_CONFIG_HOME: path.join(dir, 'xdg/config'),
      XDG_DATA_HOME: path.join(dir, 'xdg/data'),
      XDG_RUNTIME_DIR: path.join(dir, 'xdg/run'),
    };
  }

  /** PostgreSQL refuses root: as root, PostgreSQL tools run as the postgres OS user. */
  command(binary, args) {
    if (!AS_ROOT) return [binary, args];
    const env = ['PATH', 'XDG_CONFIG_HOME', 'XDG_DATA_HOME', 'XDG_RUNTIME_DIR'].map((k) => `${k}=${this.env[k]}`);
    return ['runuser', ['-u', 'postgres', '--', 'env', ...env, binary, ...args]];
  }

  async ownDirectory() {
    if (!AS_ROOT) return;
    const { stdout: uid } = await run('id', ['-u', 'postgres']);
    const { stdout: gid } = await run('id', ['-g', 'postgres']);
    await chown(this.dir, Number(uid), Number(gid));
  }

  /** Runs a command to completion (as postgres for PostgreSQL tools). */
  async exec(binary, args, { isolatedNetwork = false } = {}) {
    let [command, argv] = this.command(binary, args);
    // Inside a fresh network namespace only its own loopback exists: nothing set up there can be
    // reached from outside, whatever address it binds.
    if (isolatedNetwork && AS_ROOT) {
      const inner = [command, ...argv].map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' ');
      [command, argv] = ['unshare', ['-n', 'sh', '-c', `ip link set lo up && exec ${inner}`]];
    }
    return run(command, argv, { env: this.env, timeout: 120_000, maxBuffer: 16 << 20 });
  }

  /** Starts a long-running process in its own process group, its output in <dir>/<name>.log. */
  start(name, binary, args, { env = {}, asPostgres = true } = {}) {
    const [command, argv] = asPostgres ? this.command(binary, args) : [binary, args];
    const out = openSync(path.join(this.dir, `${name}.log`), 'a');
    const child = spawn(command, argv, { env: { ...this.env, ...env }, detached: true, stdio: ['ignore', out, out] });
    child.on('error', (error) => log(`${name}: ${error.message}`));
    this.children.set(name, child);
    return child;
  }

  /** SIGKILL to the whole process group: the process and everything it started. */
  killGroup(name) {
    const child = this.children.get(name);
    if (!child || child.exitCode !== null) return;
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }

  async stopAll() {
    for (const [name, child] of [...this.children].reverse()) {
      if (child.exitCode !== null || child.signalCode !== null) continue;
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        continue;
      }
      const exited = await Promise.race([
        new Promise((resolve) => child.once('exit', () => resolve(true))),
        sleep(10_000).then(() => false),
      ]);
      if (!exited) this.killGroup(name);
    }
  }
}

export async function query(url, sql, params = []) {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    return (await client.query(sql, params)).rows;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Polls until `check` returns a truthy value (or throws after `timeoutMs`). */
export async function waitFor(what, check, timeoutMs = 120_000, everyMs = 200) {
  const deadline = Date.now() + timeoutMs;
  let lastError;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${lastError ? `: ${lastError.message}` : ''}`);
    await sleep(everyMs);
  }
}

/** A pg_auto_failover formation: a monitor and data nodes on 127.0.0.1. */
export class Formation {
  constructor(procs, ports) {
    this.procs = procs;
    this.ports = ports; // { monitor, nodes: [p1, p2, p3] }
    this.monitorUrl = `postgres://autoctl_node@127.0.0.1:${ports.monitor}/pg_auto_failover`;
    this.adminMonitorUrl = `postgres://postgres@127.0.0.1:${ports.monitor}/pg_auto_failover`;
  }

  pgdata(name) {
    return path.join(this.procs.dir, name);
  }

  async startMonitor(tuning) {
    const pgdata = this.pgdata('monitor');
    const common = ['--pgctl', path.join(PG_BIN, 'pg_ctl'), '--pgdata', pgdata];
    // `create monitor` has no --listen: it is initialised in an isolated network namespace, then
    // told to listen on 127.0.0.1 before it runs for real.
    await this.procs.exec(
      'pg_autoctl',
      [
        'create',
        'monitor',
        ...common,
        '--pgport',
        String(this.ports.monitor),
        '--hostname',
        '127.0.0.1',
        '--auth',
        'trust',
        '--no-ssl',
      ],
      { isolatedNetwork: true },
    );
    await this.procs.exec('pg_autoctl', [
      'config',
      'set',
      '--pgdata',
      pgdata,
      'postgresql.listen_addresses',
      '127.0.0.1',
    ]);
    this.procs.start('monitor', 'pg_autoctl', ['run', '--pgdata', pgdata]);
    await waitFor('the monitor', () => query(this.adminMonitorUrl, 'SELECT 1'));
    for (const [name, value] of Object.entries(tuning))
      await query(this.adminMonitorUrl, `ALTER SYSTEM SET pgautofailover.${name} = ${Number(value)}`);
    await query(this.adminMonitorUrl, 'SELECT pg_reload_conf()');
  }

  startNode(index) {
    const name = `node${index + 1}`;
    this.procs.start(name, 'pg_autoctl', [
      ...['create', 'postgres', '--pgctl', path.join(PG_BIN, 'pg_ctl'), '--pgdata', this.pgdata(name)],
      ...['--pgport', String(this.ports.nodes[index]), '--listen', '127.0.0.1', '--hostname', '127.0.0.1'],
      ...['--name', name, '--dbname', 'accounting', '--auth', 'trust', '--no-ssl'],
      ...['--monitor', this.monitorUrl, '--run'],
    ]);
  }

  /** The monitor's view: one row per node. */
  nodes() {
    return query(
      this.adminMonitorUrl,
      `SELECT nodename AS name, nodeport AS port, reportedstate AS reported, goalstate AS goal
         FROM pgautofailover.node ORDER BY nodename`,
    );
  }

  /** Settled: one primary, every other live node a secondary, each where the monitor wants it. */
  async stable(expectedNodes) {
    const nodes = await this.nodes();
    const live = nodes.filter((n) => !['dead', 'draining', 'demoted'].includes(n.reported));
    // A lone node is "single": the primary of a formation of one.
    const lead = expectedNodes === 1 ? 'single' : 'primary';
    const primaries = live.filter((n) => n.reported === lead && n.goal === lead);
    const secondaries = live.filter((n) => n.reported === 'secondary' && n.goal === 'secondary');
    return primaries.length === 1 && secondaries.length === expectedNodes - 1 ? primaries[0] : null;
  }

  setNumberSyncStandbys(n) {
    return query(this.adminMonitorUrl, `SELECT pgautofailover.set_formation_number_sync_standbys('default', $1)`, [n]);
  }

  /** The postmaster's pid (first line of postmaster.pid). */
  postmasterPid(name) {
    return Number(readFileSync(path.join(this.pgdata(name), 'postmaster.pid'), 'utf8').split('\n')[0]);
  }

  /**
   * The node's keeper, the pg_autoctl processes of its process group (not PostgreSQL itself):
   * `reporter` talks to the monitor and applies its decisions ("node active"); `others` are the
   * supervisor and the service that starts and stops PostgreSQL.
   */
  async keeperPids(name) {
    const group = String(this.procs.children.get(name).pid);
    const all = await pids(['-g', group, '^pg_autoctl']);
    const reporter = await pids(['-g', group, '^pg_autoctl: node active']);
    return { reporter, others: all.filter((pid) => !reporter.includes(pid)) };
  }

  /** Starts PostgreSQL on a node's data directory, outside its keeper (as the keeper would). */
  async restartPostgres(name, port, killedPid) {
    // The killed postmaster stays a zombie while its parent (the held keeper) does not reap it, and
    // its lock files would stop the new one: they are removed while they still name the killed process.
    for (const lockFile of [
      path.join(this.pgdata(name), 'postmaster.pid'),
      `/var/run/postgresql/.s.PGSQL.${port}.lock`,
    ]) {
      if (existsSync(lockFile) && Number(readFileSync(lockFile, 'utf8').split('\n')[0]) === killedPid) rmSync(lockFile);
    }
    const options = `-p ${port} -h 127.0.0.1`;
    const logFile = path.join(this.procs.dir, `${name}-restarted.log`);
    await this.procs.exec(path.join(PG_BIN, 'pg_ctl'), [
      '-D',
      this.pgdata(name),
      '-o',
      options,
      '-l',
      logFile,
      '-w',
      'start',
    ]);
    return true;
  }

  /** The walsenders of a postmaster: what streams its WAL to the standbys. */
  walsenderPids(postmasterPid) {
    return pids(['-P', String(postmasterPid), 'walsender']);
  }
}

async function pids(pgrepArgs) {
  const { stdout } = await run('pgrep', ['-f', ...pgrepArgs]).catch(() => ({ stdout: '' }));
  return stdout.split('\n').filter(Boolean).map(Number);
}

/** Sends `signal` to each pid; one already gone is skipped. */
export function signal(pidList, sig) {
  for (const pid of pidList) {
    try {
      process.kill(pid, sig);
    } catch {
      // already gone
    }
  }
}

/** Whether a node answers as a writable primary (what HAProxy's check asks). */
export async function writable(port) {
  const rows = await query(
    `postgres://postgres@127.0.0.1:${port}/postgres`,
    `SELECT NOT pg_is_in_recovery() AND current_setting('transaction_read_only') = 'off' AS w`,
  ).catch(() => [{ w: false }]);
  return rows[0].w === true;
}

export async function writeHaproxyConfig(dir, { writePort, nodePorts, checkMs }) {
  const check = path.join(ROOT, 'scripts/ha/pg-writable-check.sh');
  const servers = nodePorts.map((port, i) => `  server node${i + 1} 127.0.0.1:${port} check`).join('\n');
  const file = path.join(dir, 'haproxy.cfg');
  await writeFile(
    file,
    `global
  maxconn 1000
  external-check
  insecure-fork-wanted

defaults
  mode tcp
  timeout connect 1s
  timeout client 1h
  timeout server 1h
  timeout check 2s

# The service's DATABASE_URL points here: always the node that takes writes.
frontend postgres_primary
  bind 127.0.0.1:${writePort}
  default_backend primary

backend primary
  option external-check
  external-check path "/usr/bin:/bin"
  external-check command ${check}
  # A node that stops being the writable primary loses its client connections at once.
  default-server inter ${checkMs} fall 1 rise 1 on-marked-down shutdown-sessions
${servers}
`,
  );
  return file;
}
