import { type Env, EnvReader } from './env-reader.js';
import { roleOf } from './role-of.js';

/** The database settings: DATABASE_URL or DB_*, the migration role, a replica, the pool and its timeouts. */
export interface DatabaseConfig {
  /** Connection URL; null means "start the embedded PostgreSQL" (main.ts then passes its URL in). */
  url: string | null;
  /** Neither DATABASE_URL nor DB_HOST is set: the service runs on its own embedded PostgreSQL. */
  embedded: boolean;
  /**
   * DATABASE_MIGRATION_URL: the tables' owner, through which migrations run and the service's role
   * (`url`) is granted what it needs (null: migrations run through `url`, which then owns the tables).
   * The embedded database sets both up itself.
   */
  migrationUrl: string | null;
  /** DB_READ_URL: a streaming replica for statistics, record lists and CSV exports (null: the primary). */
  readUrl: string | null;
  dataDir: string;
  migrationsRun: boolean;
  poolSize: number;
  statementTimeoutMs: number;
  lockTimeoutMs: number;
  idleInTransactionTimeoutMs: number;
  /**
   * TABLE_UPKEEP: who vacuums and analyzes the service's tables. `auto` (default): the service does,
   * while the server runs with `autovacuum = off`; `always`: the service does, whatever the server;
   * `off`: the server's autovacuum (or the operator) does.
   */
  tableUpkeep: TableUpkeep;
}

export const TABLE_UPKEEP_MODES = ['auto', 'always', 'off'] as const;
export type TableUpkeep = (typeof TABLE_UPKEEP_MODES)[number];

function databaseUrl(read: EnvReader): string | null {
  const url = read.raw('DATABASE_URL');
  if (url) {
    if (!/^postgres(ql)?:\/\//.test(url)) {
      read.problems.push('DATABASE_URL must be a postgres:// or postgresql:// URL');
    }
    return url;
  }
  const host = read.raw('DB_HOST');
  if (!host) return null;
  const port = read.int('DB_PORT', 5432, 1, 65535);
  const name = read.string('DB_NAME', 'accounting');
  const user = read.string('DB_USER', 'postgres');
  const password = read.raw('DB_PASSWORD');
  const auth = password ? `${encodeURIComponent(user)}:${encodeURIComponent(password)}` : encodeURIComponent(user);
  return `postgres://${auth}@${host}:${port}/${encodeURIComponent(name)}`;
}

/** DB_READ_URL: only next to a primary URL (the embedded database has no replica). */
function readUrl(read: EnvReader, primary: string | null): string | null {
  const url = read.raw('DB_READ_URL');
  if (!url) return null;
  if (!/^postgres(ql)?:\/\//.test(url)) read.problems.push('DB_READ_URL must be a postgres:// or postgresql:// URL');
  else if (!primary) read.problems.push('DB_READ_URL needs DATABASE_URL or DB_HOST (the primary) as well');
  return url;
}

/** DATABASE_MIGRATION_URL: only next to a configured database, and as another role than DATABASE_URL's. */
function migrationUrl(read: EnvReader, primary: string | null): string | null {
  const url = read.raw('DATABASE_MIGRATION_URL');
  if (!url) return null;
  if (!/^postgres(ql)?:\/\//.test(url)) {
    read.problems.push('DATABASE_MIGRATION_URL must be a postgres:// or postgresql:// URL');
  } else if (!primary) {
    read.problems.push("DATABASE_MIGRATION_URL needs DATABASE_URL or DB_HOST (the service's own role) as well");
  } else if (roleOf(url) === roleOf(primary)) {
    read.problems.push(
      'DATABASE_MIGRATION_URL must log in as another role than DATABASE_URL: the owner of the tables migrates, ' +
        'the service connects as a role that owns nothing',
    );
  }
  return url;
}

export function databaseConfig(
  read: EnvReader,
  embedded: { url?: string; migrationUrl?: string } = {},
): DatabaseConfig {
  const external = databaseUrl(read);
  return {
    url: external ?? embedded.url ?? null,
    embedded: external === null,
    migrationUrl: migrationUrl(read, external) ?? (external === null ? (embedded.migrationUrl ?? null) : null),
    readUrl: readUrl(read, external),
    dataDir: read.string('DATA_DIR', './data'),
    migrationsRun: read.bool('DB_MIGRATIONS_RUN', true),
    poolSize: read.int('DB_POOL_SIZE', 20, 1, 500),
    statementTimeoutMs: read.int('DB_STATEMENT_TIMEOUT_MS', 15000, 0, 3_600_000),
    lockTimeoutMs: read.int('DB_LOCK_TIMEOUT_MS', 10000, 0, 3_600_000),
    idleInTransactionTimeoutMs: read.int('DB_IDLE_IN_TRANSACTION_TIMEOUT_MS', 30000, 0, 3_600_000),
    tableUpkeep: read.oneOf('TABLE_UPKEEP', TABLE_UPKEEP_MODES, 'auto'),
  };
}

/**
 * Only the database settings, for tools that need nothing else (the TypeORM CLI, scratch databases
 * of tests and scripts): a migration needs no JWT secret.
 */
export function buildDatabaseConfig(env: Env): DatabaseConfig {
  const read = new EnvReader(env);
  const database = databaseConfig(read);
  read.throwIfProblems();
  return database;
}
