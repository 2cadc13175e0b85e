import 'reflect-metadata';

import { DataSource } from 'typeorm';

import { buildAppConfig } from './src/config/app-config.js';
import { buildDataSourceOptions } from './src/database/data-source-options.js';
import { startEmbeddedPostgres } from './src/database/embedded-postgres.js';

/**
 * DataSource for the TypeORM CLI (`npm run migration:run|revert|generate`), built by the same
 * options builder as the app. Without DATABASE_URL/DB_HOST it uses the embedded database in DATA_DIR.
 */
const config = buildAppConfig(process.env);
let url = config.database.url;
if (!url) {
  const embedded = await startEmbeddedPostgres({
    dataDir: `${config.database.dataDir}/postgres`,
    database: 'accounting',
  });
  url = embedded.url;
  process.once('beforeExit', () => void embedded.stop());
}

export default new DataSource({ ...buildDataSourceOptions({ ...config.database, url }), migrationsRun: false });
