import 'reflect-metadata';

import type { NestExpressApplication } from '@nestjs/platform-express';

import { createRootLogger } from './common/logging/logger.js';
import { portProblem, StartupError } from './common/startup/startup-checks.js';
import { type AppConfig, buildAppConfig, ConfigValidationError } from './config/app-config.js';
import { type EmbeddedDatabase, startEmbeddedPostgres } from './database/server/embedded-postgres.js';
import { drainAndClose } from './health/graceful-shutdown.js';
import { checkBeforeStart } from './preflight.js';

/**
 * `npm start` / `node dist/src/main.js`, as a person at a terminal expects it:
 * - a start that cannot work (a bad variable, a busy port, a database that does not answer) stops
 *   before anything else starts, with one sentence naming the cause and the fix, and leaves no
 *   embedded PostgreSQL behind;
 * - once up, five lines say where the API, its docs and the console are, whether the gateway is on
 *   and which price catalogue prices models without a rule;
 * - Ctrl-C (SIGINT) stops at once: requests in flight finish, the app closes its connections, then
 *   the embedded PostgreSQL (in a session of its own, so the terminal's Ctrl-C does not reach it)
 *   stops; a second Ctrl-C stops without waiting. SIGTERM (an orchestrator) first drains for
 *   SHUTDOWN_GRACE_MS (readiness 503, requests still served), then does the same.
 *
 * The app's modules (Nest, TypeORM, every controller: seconds of a core) are imported only once the
 * checks have passed, so a start that cannot work says so without loading them.
 */

/** Exit codes of a start interrupted by a signal, as shells report a process ended by it. */
const INTERRUPTED = { SIGINT: 130, SIGTERM: 143 } as const;

function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(1);
}

function readConfig(): AppConfig {
  try {
    return buildAppConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigValidationError) fail(error.message);
    throw error;
  }
}

async function bootstrap(): Promise<void> {
  const config = readConfig();
  const root = createRootLogger(config.logLevel, undefined, config.logFormat);
  const log = root.child({ context: 'Start' });

  let embedded: EmbeddedDatabase | undefined;
  let app: NestExpressApplication | undefined;
  let phase: 'starting' | 'running' | 'stopping' = 'starting';

  // Stops whatever has started and ends the process; the embedded PostgreSQL last, and only after it
  // has stopped (its exit hook in postgres-server.ts covers a process that ends any other way).
  const stopNow = async (code: number) => {
    await embedded?.stop().catch(() => undefined);
    process.exit(code);
  };

  let stoppingSince = 0;
  const shutdown = async (signal: 'SIGINT' | 'SIGTERM') => {
    if (phase === 'stopping') {
      // A second Ctrl-C, not the first one relayed: npm forwards the terminal's SIGINT to its script,
      // which the terminal has signalled already.
      if (signal === 'SIGINT' && Date.now() - stoppingSince > 1000) {
        log.warn('stopping now, without waiting for requests in flight');
        root.level = 'silent';
        await stopNow(1);
      }
      return;
    }
    stoppingSince = Date.now();
    if (phase === 'starting') {
      // Interrupted while starting (migrations, the embedded database's first initdb): nothing to drain.
      phase = 'stopping';
      log.info(`${signal} received while starting: stopped`);
      root.level = 'silent';
      await stopNow(INTERRUPTED[signal]);
      return;
    }
    phase = 'stopping';
    const running = app!;
    // Ctrl-C is a person who wants the terminal back; SIGTERM an orchestrator that wants a drain.
    const graceMs = signal === 'SIGINT' ? 0 : config.shutdownGraceMs;
    log.info(
      graceMs > 0 ? `${signal} received: not ready, still serving for ${graceMs} ms` : `${signal} received: stopping`,
    );
    const force = setTimeout(() => {
      log.error('graceful shutdown timed out');
      void stopNow(1);
    }, graceMs + 25_000);
    force.unref();
    try {
      await drainAndClose(running, graceMs, {
        log: (message: unknown) => log.debug(String(message)),
        error: (message: unknown) => log.error(String(message)),
        warn: (message: unknown) => log.warn(String(message)),
      });
      await embedded?.stop();
      log.info('shutdown complete');
      process.exit(0);
    } catch (error) {
      log.error({ err: error }, 'shutdown failed');
      await stopNow(1);
    }
  };
  // Before anything starts: a Ctrl-C during the start must stop what has started so far.
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));

  try {
    await checkBeforeStart(config, process.env);
    if (!config.database.embedded && config.database.url && config.database.migrationUrl) {
      const { checkServiceRole } = await import('./database/service-role.js');
      await checkServiceRole(config.database.url, config.database.migrationUrl);
    }
    // Loaded before the embedded PostgreSQL starts: once it runs, a Ctrl-C is answered at once, never
    // after seconds of module loading (which holds the event loop).
    const { createApp } = await import('./app.factory.js');
    if (config.database.embedded) {
      embedded = await startEmbeddedPostgres({
        dataDir: `${config.database.dataDir}/postgres`,
        database: 'accounting',
        dataDirChosen: Boolean(process.env.DATA_DIR),
        log: (message) => log.info(message),
        shownAs: config.database.dataDir,
        servicePort: config.port,
      });
    }
    app = await createApp({
      embeddedDatabaseUrl: embedded?.serviceUrl,
      embeddedMigrationUrl: embedded?.url,
      rootLogger: root,
    });
    await app.listen(config.port).catch((error: NodeJS.ErrnoException) => {
      throw (
        portProblem(config.port, error.code, config.database.embedded ? config.database.dataDir : undefined) ?? error
      );
    });
  } catch (error) {
    if (phase !== 'starting') return; // a signal is already stopping the process
    phase = 'stopping';
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(error instanceof StartupError ? `${message}\n` : `Start-up failed: ${message}\n`);
    root.level = 'silent';
    await stopNow(1);
    return;
  }
  if (phase !== 'starting') return;
  phase = 'running';

  // PORT=0 picks a free port: report the one actually bound.
  const address = app.getHttpServer().address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const base = `http://localhost:${port}`;
  log.info(`API      ${base}/api`);
  log.info(
    config.swaggerEnabled
      ? `API docs ${base}/api/docs (OpenAPI: ${base}/api/docs-json)`
      : `API docs ${base}/api/docs-json (Swagger UI is off: SWAGGER_ENABLED=true turns it on)`,
  );
  log.info(
    config.gateway.upstreams.length > 0
      ? `Gateway  ${base}/v1 on: upstreams ${config.gateway.upstreams.map((u) => u.name).join(', ')}`
      : 'Gateway  off (GATEWAY_UPSTREAMS sets its upstreams: docs/gateway.md)',
  );
  const { CatalogService } = await import('./pricing/catalog/catalog.service.js');
  const { CATALOG_PACKAGE } = await import('./pricing/catalog/catalog-data.js');
  const catalog = await app
    .get(CatalogService)
    .summary()
    .catch(() => null);
  log.info(
    catalog
      ? `Prices   catalogue ${CATALOG_PACKAGE}@${catalog.version}: ${catalog.models} models priced where no rule is set`
      : 'Prices   catalogue off (PRICE_CATALOG=false): models without a rule use DEFAULT_PRICE_PER_1K_TOKENS',
  );
  log.info(`Console  ${base}/admin (Ctrl-C stops the service)`);
}

bootstrap().catch((error) => {
  fail(`Start-up failed: ${error instanceof Error ? error.message : String(error)}`);
});
