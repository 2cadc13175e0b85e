import type { IncomingMessage, ServerResponse } from 'node:http';

import { type DynamicModule, Module, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import helmet from 'helmet';
import type { DestinationStream, Logger as Pino } from 'pino';

import {
  CONSOLE_PATH,
  consoleMiddleware,
  defaultConsoleDir,
  FAVICON_PATH,
  faviconMiddleware,
} from './admin/console-static.js';
import { AppModule } from './app.module.js';
import { deferBody, deferCsvBody, jsonUnlessDeferred } from './common/http/deferred-body.js';
import { BATCH_ROUTE, PRICE_SHEET_ROUTE, RECONCILIATIONS_ROUTE } from './common/http/deferred-routes.js';
import { formBody, requestShape } from './common/http/request-shape.js';
import { createRootLogger, PinoLoggerService, requestLogging } from './common/logging/logger.js';
import { type AppConfig, buildAppConfig } from './config/app-config.js';
import { APP_CONFIG } from './config/config.module.js';
import { GatewayService } from './gateway/gateway.service.js';
import { ShutdownState } from './health/shutdown-state.js';
import { httpMetrics } from './metrics/http-metrics.middleware.js';
import { MetricsService } from './metrics/metrics.service.js';
import { UNSUBSCRIBE_ROUTE } from './notifications/notifications.controller.js';
import { setupSwagger } from './openapi/openapi.js';
import { corsOrigins, defaultPortalDir, PORTAL_PATH, portalMiddleware } from './portal/portal-static.js';
import { stripeRawBody } from './purchases/stripe/raw-body.js';
import { STRIPE_WEBHOOK_ROUTE } from './purchases/stripe/stripe-events.js';
import { UsageCorrectionsService } from './usage/corrections/usage-corrections.service.js';

export interface CreateAppOptions {
  /** Overrides for process.env (tests). */
  env?: Record<string, string | undefined>;
  /** Where JSON log lines go (default stdout); tests capture them. */
  logDestination?: DestinationStream;
  /** Extra modules mounted next to the app (tests register test-only controllers this way). */
  modules?: Array<Type | DynamicModule>;
  /** The embedded PostgreSQL main.ts started (only when neither DATABASE_URL nor DB_HOST is set). */
  embeddedDatabaseUrl?: string;
  /** Its owner (migrations), when the service connects as its own role. */
  embeddedMigrationUrl?: string;
  /** The root logger main.ts made (so its own lines and the app's share one format); else one is made here. */
  rootLogger?: Pino;
}

@Module({})
class AppWithExtrasModule {}

/** Builds the fully configured HTTP application; shared by main.ts and the e2e tests. */
export async function createApp(options: CreateAppOptions = {}): Promise<NestExpressApplication> {
  const env = options.env ?? {};
  // Validate early so a bad environment fails before anything starts, naming the variable.
  const database = {
    embeddedDatabaseUrl: options.embeddedDatabaseUrl,
    embeddedMigrationUrl: options.embeddedMigrationUrl,
  };
  const preliminary = buildAppConfig({ ...process.env, ...env }, database);
  const root =
    options.rootLogger ?? createRootLogger(preliminary.logLevel, options.logDestination, preliminary.logFormat);
  const logger = new PinoLoggerService(root);

  const rootModule: DynamicModule = options.modules?.length
    ? { module: AppWithExtrasModule, imports: [AppModule.forRoot(env, database), ...options.modules] }
    : AppModule.forRoot(env, database);
  const app = await NestFactory.create<NestExpressApplication>(rootModule, {
    logger,
    bodyParser: false,
    abortOnError: false,
    forceCloseConnections: false,
  });
  const config = app.get<AppConfig>(APP_CONFIG);
  // One line for both: every `npm start` shows it, and it is the same fact (development values in use).
  const development = [
    config.jwt.usingDevelopmentSecret ? 'JWT_ACCESS_SECRET' : null,
    config.webhooks.usingDevelopmentKey ? 'WEBHOOK_SECRET_KEY' : null,
  ].filter(Boolean);
  if (development.length > 0) {
    logger.warn(
      `${development.join(' and ')} ${development.length > 1 ? 'are' : 'is'} not set: using fixed development ` +
        'values (fine for npm start on your machine; set real ones anywhere else)',
      'Config',
    );
  }
  if (!config.database.migrationUrl && !config.database.embedded) {
    logger.warn(
      'DATABASE_MIGRATION_URL is not set: the service migrates and connects as one role, which owns the tables, ' +
        'so the audit log is only as safe as that role (docs/operations.md, "Two database roles")',
      'Config',
    );
  }

  // First, so the timing covers the whole request and refusals by later middleware count too.
  app.use(httpMetrics(app.get(MetricsService)));
  app.use(requestLogging(root));
  app.use(app.get(ShutdownState).middleware);
  // Corrections take their turns as they arrive, ahead of the app (docs/usage.md "Corrections"): 200
  // at once cost the thread their connections and heads only, and enter the app one at a time beside
  // the other requests.
  const server = app.getHttpServer();
  const express = app.getHttpAdapter().getInstance() as (req: IncomingMessage, res: ServerResponse) => void;
  if (!server.listeners('request').includes(express)) throw new Error('the HTTP server does not serve the app');
  server.removeListener('request', express);
  server.on('request', app.get(UsageCorrectionsService).aheadOf(express));
  app.use(helmet({ contentSecurityPolicy: false }));
  // The provider APIs (docs/gateway.md), outside /api and before any body parsing: each route reads
  // its body once the key is known, and answers in its provider's shape. Off: /v1/* is a plain 404.
  const gateway = app.get(GatewayService);
  if (gateway.enabled) app.use('/v1', gateway.router());
  // The admin console's static files, before any body parsing: only /admin requests enter here.
  const consoleDir = { ...process.env, ...env }.CONSOLE_DIR ?? defaultConsoleDir();
  app.use(CONSOLE_PATH, consoleMiddleware(consoleDir));
  app.use(FAVICON_PATH, faviconMiddleware(consoleDir));
  // The end users' portal (src/portal/): its page, and embed.js for the PORTAL_ALLOWED_ORIGINS.
  const portalDir = { ...process.env, ...env }.PORTAL_DIR ?? defaultPortalDir();
  app.use(PORTAL_PATH, portalMiddleware(portalDir, config.portal.allowedOrigins));
  app.enableCors({
    origin: corsOrigins(config.corsOrigin, config.portal.allowedOrigins),
    exposedHeaders: ['Retry-After', 'X-Request-Id', 'Idempotent-Replayed'],
  });
  // Batch ingestion carries up to 1,000 events (BATCH_BODY_LIMIT): its body is read after
  // authentication, by its route (DeferredBodyInterceptor); every other body here, up to BODY_LIMIT.
  app.use(BATCH_ROUTE, deferBody);
  // A price sheet of 500 rules does not fit either (DeferredBodyInterceptor reads it after authentication).
  app.use(PRICE_SHEET_ROUTE, deferBody);
  // Stripe's payout reconciliation report is CSV (up to 20 MB), read by its route after authentication.
  app.use(RECONCILIATIONS_ROUTE, deferCsvBody);
  // Stripe signs the exact bytes: its webhook's body is kept raw (src/purchases/stripe/raw-body.ts).
  app.use(STRIPE_WEBHOOK_ROUTE, stripeRawBody(config.bodyLimit));
  // One-click unsubscribe (RFC 8058): mail clients POST a small form, not JSON.
  app.use(UNSUBSCRIBE_ROUTE, formBody('4kb'));
  app.use(jsonUnlessDeferred(config.bodyLimit));
  app.use(requestShape);
  app.set('query parser', 'simple');
  // No ETag: every answer is live money state that no client revalidates, and Express would hash
  // every body (SHA-1) to make one.
  app.set('etag', false);
  // Behind a gateway the socket address is the gateway's: TRUST_PROXY says which X-Forwarded-For hops to believe.
  app.set('trust proxy', config.trustProxy);
  app.disable('x-powered-by');
  setupSwagger(app, config.version, config.swaggerEnabled);
  return app;
}
