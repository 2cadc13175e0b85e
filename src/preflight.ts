import path from 'node:path';

import { checkDatabase, checkPortFree, dataDirInUse, StartupError } from './common/startup/startup-checks.js';
import { type AppConfig, buildAppConfig, ConfigValidationError } from './config/app-config.js';
import type { Env } from './config/env-reader.js';
import { ownerOf } from './database/server/data-dir-owner.js';

/**
 * What stops a start before anything has started, in order: the port (its advice names a data
 * directory of its own when the embedded PostgreSQL would run), then the embedded database's data
 * directory (in use by another running copy) or the configured database (does it answer?). Throws a
 * StartupError, one sentence naming the cause and the fix. main.ts runs it first; so does
 * scripts/preflight.mjs, which `npm start` runs before it builds.
 */
export async function checkBeforeStart(config: AppConfig, env: Env): Promise<void> {
  const { database } = config;
  await checkPortFree(config.port, database.embedded ? database.dataDir : undefined);
  if (database.embedded) {
    const pid = ownerOf(path.resolve(database.dataDir, 'postgres'));
    if (pid !== null) throw dataDirInUse(database.dataDir, pid, config.port);
  } else if (database.url) {
    await checkDatabase(database.url, env.DATABASE_URL ? 'DATABASE_URL' : 'DB_HOST');
  }
}

/**
 * The configuration (every bad variable at once), then checkBeforeStart: null when the start can go
 * on, else what it would print and stop on. Built from the sources by scripts/preflight.mjs, so a
 * start that cannot work says why in a second, before `npm start` spends 20 s building.
 */
export async function preflight(env: Env): Promise<string | null> {
  try {
    await checkBeforeStart(buildAppConfig(env), env);
    return null;
  } catch (error) {
    if (error instanceof ConfigValidationError || error instanceof StartupError) return error.message;
    throw error;
  }
}
