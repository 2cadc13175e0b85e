import 'reflect-metadata';

import { Logger } from '@nestjs/common';

import { createApp } from './app.factory.js';
import { buildAppConfig, ConfigValidationError } from './config/app-config.js';
import { type EmbeddedDatabase, startEmbeddedPostgres } from './database/embedded-postgres.js';
import { drainAndClose } from './health/graceful-shutdown.js';

async function bootstrap(): Promise<void> {
  let config;
  try {
    config = buildAppConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigValidationError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }

  let embedded: EmbeddedDatabase | undefined;
  if (config.database.embedded) {
    embedded = await startEmbeddedPostgres({ dataDir: `${config.database.dataDir}/postgres`, database: 'accounting' });
  }

  const app = await createApp({ embeddedDatabaseUrl: embedded?.serviceUrl, embeddedMigrationUrl: embedded?.url }).catch(
    async (error) => {
      await embedded?.stop();
      throw error;
    },
  );
  const logger = new Logger('Bootstrap');

  let shuttingDown = false;
  const shutdown = async (signal: string) => {
    if (shuttingDown) return;
    shuttingDown = true;
    logger.log(`${signal} received: not ready, still serving for ${config.shutdownGraceMs} ms`);
    const force = setTimeout(() => {
      logger.error('graceful shutdown timed out');
      process.exit(1);
    }, config.shutdownGraceMs + 25_000);
    force.unref();
    try {
      await drainAndClose(app, config.shutdownGraceMs, logger);
      await embedded?.stop();
      logger.log('shutdown complete');
      process.exit(0);
    } catch (error) {
      logger.error({ msg: 'shutdown failed', err: error });
      process.exit(1);
    }
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));

  await app.listen(config.port);
  // PORT=0 picks a free port: report the one actually bound.
  const address = app.getHttpServer().address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  logger.log(`listening on http://localhost:${port} (Swagger UI: /api/docs)`);
}

bootstrap().catch((error) => {
  process.stderr.write(`Start-up failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
