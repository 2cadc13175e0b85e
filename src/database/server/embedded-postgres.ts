import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, chown, mkdir, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';

import pg from 'pg';

import { dataDirInUse } from '../../common/startup/startup-checks.js';
import { isAlive, parentPid, postmaster } from './data-dir-owner.js';
import {
  blockedFor,
  copyBinaries,
  fallbackDataDir,
  planForRoot,
  SYSTEM_USER,
  systemUser,
} from './embedded-postgres-root.js';
import {
  binariesUnder,
  initCluster,
  packagedBinaries,
  type PostgresBinaries,
  type RunAs,
  startServer,
} from './postgres-server.js';

/**
 * The zero-setup database: a real PostgreSQL 15 from the binaries the `embedded-postgres` package
 * installs (run by postgres-server.ts), its data under DATA_DIR. Used only when neither DATABASE_URL
 * nor DB_HOST is configured.
 */
export interface EmbeddedDatabase {
  /** The superuser, who owns the tables: migrations and tools. */
  url: string;
  /** The service's own role, which owns nothing (granted its rights after migrating: service-role.ts). */
  serviceUrl: string;
  /** The cluster's directory (as root with the default DATA_DIR, possibly not the one asked for). */
  dataDir: string;
  stop(): Promise<void>;
  /** Asks the server for a fast shutdown without waiting: for a process that exits synchronously. */
  stopNow(): void;
}

const USER = 'postgres';
const PASSWORD = 'embedded';
const SERVICE_ROLE = 'accounting_service';
const SERVICE_PASSWORD = 'embedded-service';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

/** How many free ports a start tries: each may be taken by another process before the server binds it. */
const PORT_ATTEMPTS = 5;

/**
 * The server on a port free a moment before: between freePort() and the server's bind, any process
 * of the machine may take it (an outgoing connection's ephemeral port among them), and the server
 * then stops at once, before it touched the data; so another free port, a few times.
 */
async function startOnFreePort(
  binaries: Parameters<typeof startServer>[0],
  nextPort: () => Promise<number>,
  options: Omit<Parameters<typeof startServer>[1], 'port'>,
): Promise<{ port: number; server: Awaited<ReturnType<typeof startServer>> }> {
  for (let attempt = 1; ; attempt++) {
    const port = await nextPort();
    try {
      return { port, server: await startServer(binaries, { ...options, port }) };
    } catch (error) {
      const taken = error instanceof Error && error.message.includes('Address already in use');
      if (!taken || attempt >= PORT_ATTEMPTS) throw error;
    }
  }
}

/**
 * The URL of the embedded server that a running service started on this data directory, or null
 * when none runs there: tools (the TypeORM CLI) use it instead of starting a second server.
 */
export function runningEmbeddedUrl(dataDir: string, database: string): string | null {
  const server = postmaster(path.resolve(dataDir));
  if (!server || !(server.pid > 0) || !isAlive(server.pid) || parentPid(server.pid) === 1) return null;
  if (!(server.port > 0)) return null;
  return `postgres://${USER}:${PASSWORD}@127.0.0.1:${server.port}/${database}`;
}

/**
 * After a crash a postgres may still run on this data directory (orphaned) or leave a stale
 * postmaster.pid behind. Stop the orphan (fast shutdown) or remove the stale file.
 */
async function clearLeftovers(
  dataDir: string,
  log: (msg: string) => void,
  shownAs: string | undefined,
  port: number | undefined,
): Promise<void> {
  const pidFile = path.join(dataDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number((await readFile(pidFile, 'utf8')).split('\n')[0]);
  if (Number.isInteger(pid) && pid > 0 && isAlive(pid)) {
    if (parentPid(pid) !== 1) throw dataDirInUse(shownAs ?? dataDir, pid, port);
    log(`embedded postgres: stopping orphaned server (pid ${pid})`);
    process.kill(pid, 'SIGINT');
    for (let i = 0; i < 100 && isAlive(pid); i++) await new Promise((r) => setTimeout(r, 100));
    if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  }
  await rm(pidFile, { force: true });
}

/**
 * Where the binaries run from, as whom, and where the data lives. As root the server runs as the
 * postgres system user, which must reach the binaries and the data (see embedded-postgres-root.ts);
 * otherwise as this process, with the data where it was asked for.
 */
async function placement(
  dataDir: string,
  dataDirChosen: boolean,
  log: (msg: string) => void,
): Promise<{ binaries: PostgresBinaries; runAs?: RunAs; dataDir: string }> {
  const packaged = await packagedBinaries();
  if (process.getuid?.() !== 0) return { binaries: packaged, dataDir };
  const runAs = systemUser(log);
  const nativeDir = await realpath(path.dirname(path.dirname(packaged.postgres)));
  const { version } = JSON.parse(await readFile(path.join(nativeDir, '..', 'package.json'), 'utf8')) as {
    version: string;
  };
  const blockedOn = blockedFor(runAs);
  let fallback: string | undefined;
  if (!dataDirChosen && blockedOn(path.dirname(dataDir)) !== null) {
    fallback = fallbackDataDir(dataDir);
    await makeParents(path.dirname(fallback), 0o755);
  }
  const plan = planForRoot({ dataDir, nativeDir, binariesVersion: version, blockedOn, fallback });
  if ('refusal' in plan) throw new Error(plan.refusal);
  if (plan.movedFrom) {
    log(
      `embedded postgres: the ${SYSTEM_USER} user cannot enter ${plan.movedFrom.blocked}, so the data lives in ` +
        `${plan.dataDir} (set DATA_DIR to choose another place)`,
    );
  }
  if (plan.copyFrom) await copyBinaries(plan.copyFrom, plan.nativeDir, log);
  return { binaries: binariesUnder(plan.nativeDir), runAs, dataDir: plan.dataDir };
}

/** Directories this process creates on the way to the data: enterable by the server's user too. */
async function makeParents(dir: string, mode: number | undefined): Promise<void> {
  const first = await mkdir(dir, { recursive: true });
  if (first === undefined || mode === undefined) return;
  for (let at = dir; ; at = path.dirname(at)) {
    await chmod(at, mode);
    if (at === first) return;
  }
}

/** A new cluster: its directory belongs to the server's user, initdb reads the password from a file. */
async function initialise(
  binaries: PostgresBinaries,
  dataDir: string,
  runAs: RunAs | undefined,
  log: (msg: string) => void,
): Promise<void> {
  log(`embedded postgres: initialising ${dataDir}`);
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const passwordFile = path.join(path.dirname(dataDir), `.pg-password-${randomBytes(6).toString('hex')}`);
  await writeFile(passwordFile, `${PASSWORD}\n`, { mode: 0o600 });
  try {
    if (runAs) {
      await chown(dataDir, runAs.uid, runAs.gid);
      await chown(passwordFile, runAs.uid, runAs.gid);
    }
    // initdb removes what it created when it fails.
    await initCluster(binaries, { dataDir, user: USER, passwordFile, runAs });
  } finally {
    await rm(passwordFile, { force: true });
  }
}

export async function startEmbeddedPostgres(options: {
  dataDir: string;
  database: string;
  persistent?: boolean;
  log?: (msg: string) => void;
  /**
   * The data directory was chosen (DATA_DIR set): never moved. Left at its default, as root, data
   * the postgres user cannot reach moves where it can (and the log says where). Default true.
   */
  dataDirChosen?: boolean;
  /** DATA_DIR as configured (`./data`) and the service's PORT: the in-use sentence's advice. */
  shownAs?: string;
  servicePort?: number;
  /** Where its port comes from: by default one the system has free at that moment. */
  freePort?: () => Promise<number>;
}): Promise<EmbeddedDatabase> {
  const log = options.log ?? ((msg: string) => process.stderr.write(`${msg}\n`));
  const isRoot = process.getuid?.() === 0;
  await makeParents(path.dirname(path.resolve(options.dataDir)), isRoot ? 0o755 : undefined);
  const { binaries, runAs, dataDir } = await placement(
    path.resolve(options.dataDir),
    options.dataDirChosen ?? true,
    log,
  );
  await clearLeftovers(dataDir, log, options.shownAs, options.servicePort);

  if (!existsSync(path.join(dataDir, 'PG_VERSION'))) await initialise(binaries, dataDir, runAs, log);
  // The data directory must belong to the user the server runs as.
  else if (runAs) await chown(dataDir, runAs.uid, runAs.gid);

  const { port, server } = await startOnFreePort(binaries, options.freePort ?? freePort, {
    dataDir,
    flags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200'],
    runAs,
  });

  const adminUrl = `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/postgres`;
  const client = new pg.Client({ connectionString: adminUrl });
  try {
    await client.connect();
    const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [options.database]);
    if (exists.rowCount === 0) await client.query(`CREATE DATABASE "${options.database.replace(/"/g, '')}"`);
    // The service connects as a role of its own, so that it cannot rewrite the audit log.
    const role = await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [SERVICE_ROLE]);
    if (role.rowCount === 0) await client.query(`CREATE ROLE ${SERVICE_ROLE} LOGIN PASSWORD '${SERVICE_PASSWORD}'`);
  } catch (error) {
    await server.stop();
    throw error;
  } finally {
    await client.end().catch(() => undefined);
  }
  log(`embedded postgres: listening on 127.0.0.1:${port}, data in ${dataDir}`);

  let stopped = false;
  return {
    url: `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${options.database}`,
    serviceUrl: `postgres://${SERVICE_ROLE}:${SERVICE_PASSWORD}@127.0.0.1:${port}/${options.database}`,
    dataDir,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await server.stop();
      if (options.persistent === false) await rm(dataDir, { recursive: true, force: true });
    },
    stopNow: () => {
      if (stopped) return;
      stopped = true;
      const running = postmaster(dataDir);
      if (running && running.pid > 0 && isAlive(running.pid)) process.kill(running.pid, 'SIGINT');
    },
  };
}
