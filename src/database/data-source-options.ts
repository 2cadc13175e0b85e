import type { DataSourceOptions } from 'typeorm';

import { MIGRATIONS } from '../../migrations/index.js';
import type { DatabaseConfig } from '../config/app-config.js';
import { DiscardBrokenConnections } from './connections/discard-broken-connections.js';

/**
 * The one place that turns configuration into TypeORM options; used by the app (via
 * TypeOrmModule) and by `ormconfig.ts` for the CLI. Entities and migrations are listed explicitly
 * (no globs), so the same list works compiled, under the test runner and in the CLI. The entities
 * come from the composition root (`src/entities.ts`): this layer imports no feature; running the
 * migrations needs none.
 */
export function buildDataSourceOptions(
  db: DatabaseConfig & { url: string },
  entities: NonNullable<DataSourceOptions['entities']> = [],
): DataSourceOptions {
  return {
    type: 'postgres',
    // DB_READ_URL: only reads that ask for the replica go there (src/database/connections/replica-reads.ts).
    // TypeORM would also send every query-builder and find read outside a transaction to it
    // (its default): an account or balance read right after a write would miss it.
    ...(db.readUrl
      ? { replication: { master: { url: db.url }, slaves: [{ url: db.readUrl }], defaultMode: 'master' as const } }
      : { url: db.url }),
    entities,
    migrations: MIGRATIONS,
    subscribers: [DiscardBrokenConnections],
    migrationsRun: db.migrationsRun,
    migrationsTransactionMode: 'each',
    synchronize: false,
    // The migrations create the schema, extensions included (btree_gist); ids default to PostgreSQL's
    // built-in gen_random_uuid(). Without these TypeORM would run CREATE EXTENSION "uuid-ossp" and
    // btree_gist on every start and model uuid defaults as uuid_generate_v4().
    uuidExtension: 'pgcrypto',
    installExtensions: false,
    logging: false,
    poolSize: db.poolSize,
    extra: { max: db.poolSize, ...connectionSettings(db, 'accounting-service') },
  };
}

/**
 * What every connection of the service is opened with, whichever pool it belongs to (TypeORM's, the
 * CSV exports', readiness's): the session settings, so a stuck query or lock never holds a connection
 * for ever, and a name that tells the pools apart in pg_stat_activity.
 */
export function connectionSettings(
  db: Pick<DatabaseConfig, 'statementTimeoutMs' | 'lockTimeoutMs' | 'idleInTransactionTimeoutMs'>,
  applicationName: string,
): { connectionTimeoutMillis: number; options: string; application_name: string } {
  return {
    connectionTimeoutMillis: 5000,
    options: [
      `-c statement_timeout=${db.statementTimeoutMs}`,
      `-c lock_timeout=${db.lockTimeoutMs}`,
      `-c idle_in_transaction_session_timeout=${db.idleInTransactionTimeoutMs}`,
      '-c timezone=UTC',
      // The service's statements touch a few rows each; JIT compiling one costs more than it runs, and
      // a plan whose row estimate is inflated (set-returning functions joined in a statement's writes)
      // passes jit_above_cost and is compiled at every call: seconds on a busy machine, past the
      // statement timeout. The heavy reads' pool turns it back on.
      '-c jit=off',
    ].join(' '),
    application_name: applicationName,
  };
}
