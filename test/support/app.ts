import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';

import type { NestExpressApplication } from '@nestjs/platform-express';
import jwt from 'jsonwebtoken';
import pg from 'pg';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { inject } from 'vitest';

import { createApp, type CreateAppOptions } from '../../src/app.factory.js';
import type { Role } from '../../src/auth/roles.js';
import { openAppLogs } from './failed-test-logs.js';
import { scanEachRouteSetOnce } from './openapi-once.js';

/**
 * NODE_ENV=test on a DATABASE_URL: the service's development secrets are refused there, so every
 * secret is set, each at least 32 characters as the configuration requires.
 */
export const TEST_JWT_SECRET = 'test-secret-that-is-long-enough-0123456789';
export const TEST_INTERNAL_API_KEY = 'internal-test-key-that-is-long-enough-0123';
export const TEST_WEBHOOK_SECRET_KEY = 'test-webhook-key-that-is-long-enough-0123456789';

export interface TestApp {
  app: NestExpressApplication;
  http: ReturnType<typeof request>;
  /** Every JSON log line the app wrote. */
  logs: string[];
  /** Direct SQL on the test database, for fixtures and invariant checks. */
  db: pg.Pool;
  close(): Promise<void>;
}

/** The app's request pool (TypeORM's primary pool, node-postgres'): its counts, its connections. */
export const servicePool = (t: Pick<TestApp, 'app'>): pg.Pool =>
  (t.app.get(DataSource).driver as unknown as { master: pg.Pool }).master;

/**
 * A real app on the run's fresh database (migrations already applied by the global setup), listening
 * on 127.0.0.1 at a free port.
 */
export async function startTestApp(
  env: Record<string, string> = {},
  options: { modules?: CreateAppOptions['modules'] } = {},
): Promise<TestApp> {
  const logs: string[] = [];
  const logDestination = new Writable({
    write(chunk, _encoding, callback) {
      logs.push(...chunk.toString().split('\n').filter(Boolean));
      callback();
    },
  });
  // The run's database as production runs it: the service's own role, the owner for migrations and
  // grants (docs/operations.md, "Two database roles"). A spec naming its own database uses it as is.
  const roles =
    env.DATABASE_URL === undefined
      ? { DATABASE_URL: inject('serviceDatabaseUrl'), DATABASE_MIGRATION_URL: inject('databaseUrl') }
      : {};
  scanEachRouteSetOnce();
  const app = await createApp({
    env: {
      NODE_ENV: 'test',
      ...roles,
      DB_MIGRATIONS_RUN: 'false',
      JWT_ACCESS_SECRET: TEST_JWT_SECRET,
      INTERNAL_API_KEY: TEST_INTERNAL_API_KEY,
      WEBHOOK_SECRET_KEY: TEST_WEBHOOK_SECRET_KEY,
      LOG_LEVEL: 'info',
      DB_POOL_SIZE: '10',
      // Every test request comes from 127.0.0.1: the per-address failed-login limit would turn the
      // 401s that tests provoke on purpose into 429s. test/auth.e2e-spec.ts checks that limit itself.
      THROTTLE_AUTH_FAILURE_LIMIT: '100000',
      // Likewise for requests without credentials (public routes, the 401s of every route): the
      // anonymous limit is tested by test/service-throttle.e2e-spec.ts.
      ANONYMOUS_THROTTLE_LIMIT: '10000000',
      // Spec files share the database: only the webhook specs deliver (to their own receivers).
      WEBHOOK_WORKER_ENABLED: 'false',
      // Likewise for emails: only the email specs make and send them (to their own SMTP servers).
      EMAIL_WORKER_ENABLED: 'false',
      // The hourly runway alerts would tell other spec files' users; the runway alert spec turns them on.
      RUNWAY_ALERT_DAYS: '',
      // No DNS lookups of webhook URLs (the fuzz test posts example hosts): tests talk to 127.0.0.1
      // only. test/webhooks-ssrf.e2e-spec.ts turns the check on, with a fake resolver.
      WEBHOOK_ALLOW_PRIVATE_URLS: 'true',
      // The specs written for METERING_TRUST=users meter with the billed user's own token or key: the behaviour
      // METERING_TRUST=users keeps. test/metering-trust*.e2e-spec.ts test both modes side by side.
      METERING_TRUST: 'users',
      // The specs written before the price catalogue price a model without a rule at the default price;
      // test/price-catalog*.e2e-spec.ts turn the catalogue on, each on a database of its own.
      PRICE_CATALOG: 'false',
      ...env,
    },
    modules: options.modules,
    logDestination: logDestination as unknown as import('pino').DestinationStream,
  });
  // Listening once, on 127.0.0.1 at a free port: supertest given a server that is not listening
  // listens it for each request and closes it after (a bind(0) a request, whose search for a free
  // port grows with the run's sockets in TIME_WAIT: a fifth of the fuzz spec's CPU). `t.http` and a
  // browser or a raw socket reach the same port (`app.getHttpServer().address()`).
  await app.listen(0, '127.0.0.1');
  // As the owner: the migration role's URL where the spec names one, as the run's database has it.
  const db = new pg.Pool({
    connectionString: env.DATABASE_MIGRATION_URL ?? env.DATABASE_URL ?? inject('databaseUrl'),
    max: 4,
  });
  openAppLogs.add(logs);
  return {
    app,
    http: request(app.getHttpServer()),
    logs,
    db,
    close: async () => {
      openAppLogs.delete(logs);
      await db.end();
      await app.close();
    },
  };
}

/** A user id no other test uses. */
export function uniqueId(prefix = 'u'): string {
  return `${prefix}-${randomUUID().slice(0, 13)}`;
}

export interface TokenClaims {
  sub?: string;
  role?: Role | string;
  email?: string;
  username?: string;
  type?: string;
  [claim: string]: unknown;
}

/** An access token as the authentication service would issue it. */
export function token(claims: TokenClaims = {}, options: jwt.SignOptions & { secret?: string } = {}): string {
  const { secret = TEST_JWT_SECRET, ...signOptions } = options;
  const sub = claims.sub ?? uniqueId();
  return jwt.sign({ type: 'access', email: `${sub}@example.com`, username: sub, ...claims, sub }, secret, {
    algorithm: 'HS256',
    expiresIn: 3600,
    ...signOptions,
  });
}

export const bearer = (t: string) => ({ Authorization: `Bearer ${t}` });
