import { createServer } from 'node:net';

import pg from 'pg';

/**
 * A start that cannot go on, for a person at a terminal: `message` is one sentence naming the cause
 * and the fix, printed as it is (no stack, no retries, nothing after it).
 */
export class StartupError extends Error {
  override name = 'StartupError';
}

/**
 * `PORT=… DATA_DIR=… npm start`: a second copy on the embedded database needs a port and a data
 * directory of its own (the same data directory is in use by the first copy's PostgreSQL).
 */
function ownCopy(port: number, dataDir: string): string {
  return `PORT=${port} DATA_DIR=${dataDir.replace(/\/+$/, '') || '.'}-${port} npm start`;
}

/**
 * The sentence for a port the service cannot listen on (`code` from listen's error). `dataDir`: the
 * configured DATA_DIR when the service runs its embedded PostgreSQL (its advice names one too).
 */
export function portProblem(port: number, code: string | undefined, dataDir?: string): StartupError | null {
  const other = port === 3001 ? 3002 : port + 1;
  if (code === 'EADDRINUSE') {
    return new StartupError(
      `Port ${port} is already in use (another copy of this service, or another program): stop it, ` +
        (dataDir === undefined
          ? `or start on another port, for example PORT=${other} npm start.`
          : `or start another copy on another port with a data directory of its own, for example ${ownCopy(other, dataDir)}.`),
    );
  }
  if (code === 'EACCES') {
    return new StartupError(
      `Port ${port} needs privileges this user does not have: choose a port above 1023, for example PORT=3001.`,
    );
  }
  return null;
}

/** The sentence for a data directory whose PostgreSQL (`pid`) another running copy of the service runs. */
export function dataDirInUse(dataDir: string, pid: number, port: number | undefined): StartupError {
  const advice = port ? ownCopy(port, dataDir) : `DATA_DIR=${dataDir.replace(/\/+$/, '') || '.'}-2 npm start`;
  return new StartupError(
    `The data directory ${dataDir} is in use by another running copy of this service (its PostgreSQL, pid ${pid}): ` +
      `stop that copy, or give this one a data directory of its own, for example ${advice}.`,
  );
}

/**
 * Fails fast when `port` is taken, before anything else starts (the embedded PostgreSQL, the
 * migrations): binds it the way the service will (every address), then lets it go. PORT=0 (any free
 * port) cannot be taken. `dataDir` as for portProblem.
 */
export async function checkPortFree(port: number, dataDir?: string): Promise<void> {
  if (port === 0) return;
  await new Promise<void>((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', (error: NodeJS.ErrnoException) => reject(portProblem(port, error.code, dataDir) ?? error));
    server.listen(port, () => server.close(() => resolve()));
  });
}

/** Which variables named the database, for the sentence's fix. */
export type DatabaseSource = 'DATABASE_URL' | 'DB_HOST' | 'DATABASE_MIGRATION_URL';

const FIX: Record<DatabaseSource, string> = {
  DATABASE_URL: 'DATABASE_URL',
  DATABASE_MIGRATION_URL: 'DATABASE_MIGRATION_URL',
  DB_HOST: 'DB_HOST, DB_PORT, DB_NAME, DB_USER and DB_PASSWORD',
};

interface Target {
  host: string;
  port: string;
  user: string;
  database: string;
}

function targetOf(url: string): Target | null {
  try {
    const parsed = new URL(url);
    return {
      host: decodeURIComponent(parsed.hostname) || 'localhost',
      port: parsed.port || '5432',
      user: decodeURIComponent(parsed.username) || 'postgres',
      database: decodeURIComponent(parsed.pathname.slice(1)) || decodeURIComponent(parsed.username) || 'postgres',
    };
  } catch {
    return null;
  }
}

/** One sentence for why `url` could not be connected to (pg's error codes and Node's socket errors). */
export function databaseProblem(url: string, source: DatabaseSource, error: unknown): StartupError {
  const fix = FIX[source];
  const target = targetOf(url);
  if (!target) {
    return new StartupError(
      `${source === 'DB_HOST' ? 'The database settings are' : `${source} is`} not a valid URL: ` +
        'write it as postgres://user:password@host:5432/database.',
    );
  }
  const at = `${target.host}:${target.port}`;
  const code = (error as { code?: string } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  switch (code) {
    case 'ECONNREFUSED':
      return new StartupError(
        `No database answers at ${at} (connection refused): start PostgreSQL there or correct ${fix}, ` +
          'or leave the database unset to use the embedded PostgreSQL.',
      );
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new StartupError(`The database host "${target.host}" is unknown: correct the host in ${fix}.`);
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return new StartupError(`The database at ${at} cannot be reached (${code}): check the network and ${fix}.`);
    case '28P01':
    case '28000':
      return new StartupError(
        `The database at ${at} refused the user "${target.user}" (wrong password or no access): ` +
          `correct the user and password in ${fix}.`,
      );
    case '3D000':
      return new StartupError(
        `The database "${target.database}" does not exist at ${at}: create it (createdb ${target.database}) ` +
          `or correct the name in ${fix}.`,
      );
    default:
      if (/timeout/i.test(message)) {
        return new StartupError(
          `The database at ${at} did not answer in time: check that PostgreSQL runs there and ${fix} names it.`,
        );
      }
      return new StartupError(
        `The database at ${at} could not be used (${message.replace(/\s+/g, ' ').replace(/\.$/, '')}): check ${fix}.`,
      );
  }
}

/**
 * Connects once to the configured database before anything else starts, so that a wrong URL, host,
 * password or name stops start-up at once with one sentence (the pool would retry, then print a stack).
 */
export async function checkDatabase(url: string, source: DatabaseSource, timeoutMs = 5000): Promise<void> {
  let client: pg.Client;
  try {
    client = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs });
  } catch (error) {
    throw databaseProblem(url, source, error);
  }
  // A connection that breaks after the check must not end the process with an unhandled 'error'.
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
  } catch (error) {
    throw databaseProblem(url, source, error);
  } finally {
    await client.end().catch(() => undefined);
  }
}
