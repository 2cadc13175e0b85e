import 'reflect-metadata';

import { DataSource } from 'typeorm';

import { buildDatabaseConfig } from './src/config/app-config.js';
import { buildDataSourceOptions } from './src/database/data-source-options.js';
import { runningEmbeddedUrl, startEmbeddedPostgres } from './src/database/embedded-postgres.js';
import { fallbackDataDir } from './src/database/embedded-postgres-root.js';
import { ENTITIES } from './src/entities.js';

/**
 * DataSource for the TypeORM CLI (`npm run migration:run|revert|generate`), built by the same
 * options builder as the app. Without DATABASE_URL/DB_HOST it uses the embedded database in DATA_DIR:
 * the server of the running service when there is one, else one started for the command and stopped
 * when it exits.
 */
const database = buildDatabaseConfig(process.env);
const dataDir = `${database.dataDir}/postgres`;
// As root with the default DATA_DIR, the service may keep its data under /var/lib/accounting-service
// (embedded-postgres-root.ts): look there too.
const dataDirChosen = Boolean(process.env.DATA_DIR);
const moved = process.getuid?.() === 0 && !dataDirChosen ? fallbackDataDir(dataDir) : null;
let url =
  database.url ??
  runningEmbeddedUrl(dataDir, 'accounting') ??
  (moved ? runningEmbeddedUrl(moved, 'accounting') : null) ??
  undefined;
if (!url) {
  const embedded = await startEmbeddedPostgres({ dataDir, database: 'accounting', dataDirChosen });
  url = embedded.url;
  // The CLI ends with process.exit(): no asynchronous hook would run, so signal the server at exit.
  process.once('exit', () => embedded.stopNow());
}

export default new DataSource({ ...buildDataSourceOptions({ ...database, url }, ENTITIES), migrationsRun: false });
