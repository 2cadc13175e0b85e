import 'reflect-metadata';

import { DataSource } from 'typeorm';

import { buildDatabaseConfig } from './src/config/app-config.js';
import { buildDataSourceOptions } from './src/database/data-source-options.js';
import { runningEmbeddedUrl, startEmbeddedPostgres } from './src/database/server/embedded-postgres.js';
import { ENTITIES } from './src/entities.js';

/**
 * DataSource for the TypeORM CLI (`npm run migration:run|revert|generate`), built by the same
 * options builder as the app, on DATABASE_MIGRATION_URL (the tables' owner) when set. Without DATABASE_URL/DB_HOST it uses the embedded database in DATA_DIR:
 * the server of the running service when there is one, else one started for the command and stopped
 * when it exits.
 */
const database = buildDatabaseConfig(process.env);
const dataDir = `${database.dataDir}/postgres`;
// With two roles (docs/operations.md), the CLI migrates as the tables' owner.
let url = database.migrationUrl ?? database.url ?? runningEmbeddedUrl(dataDir, 'accounting') ?? undefined;
if (!url) {
  const embedded = await startEmbeddedPostgres({ dataDir, database: 'accounting' });
  url = embedded.url;
  // The CLI ends with process.exit(): no asynchronous hook would run, so signal the server at exit.
  process.once('exit', () => embedded.stopNow());
}

export default new DataSource({ ...buildDataSourceOptions({ ...database, url }, ENTITIES), migrationsRun: false });
