import { describe, expect, it } from 'vitest';

import { buildAppConfig, buildDatabaseConfig, ConfigValidationError, DEVELOPMENT_JWT_SECRET } from './app-config.js';

/** Real secrets: what every environment but development on the embedded database must set. */
const SECRETS = { JWT_ACCESS_SECRET: 'j'.repeat(32), WEBHOOK_SECRET_KEY: 'w'.repeat(32) };

function problemsOf(env: Record<string, string | undefined>): string[] {
  try {
    buildAppConfig(env);
  } catch (error) {
    if (error instanceof ConfigValidationError) return error.problems;
    throw error;
  }
  throw new Error('expected the configuration to be rejected');
}

describe('buildAppConfig', () => {
  it('has working defaults for an empty development environment', () => {
    const config = buildAppConfig({}, { version: '1.2.3' });
    expect(config).toMatchObject({
      nodeEnv: 'development',
      port: 3001,
      database: {
        url: null,
        embedded: true,
        readUrl: null,
        dataDir: './data',
        migrationsRun: true,
        poolSize: 20,
        statementTimeoutMs: 15000,
        lockTimeoutMs: 10000,
        idleInTransactionTimeoutMs: 30000,
      },
      jwt: {
        secret: DEVELOPMENT_JWT_SECRET,
        usingDevelopmentSecret: true,
        maxTtlSeconds: 86_400,
        issuer: null,
        audience: null,
      },
      internalApiKey: null,
      corsOrigin: false,
      throttle: { ttlSeconds: 60, limit: 1000, serviceLimit: 100_000, anonymousLimit: 600, authFailureLimit: 30 },
      streamingSessionTtlSeconds: 3600,
      pricing: { defaultPricePer1kTokens: '1', strict: false, cacheTtlMs: 5000 },
      logLevel: 'info',
      bodyLimit: '100kb',
      batchBodyLimit: '2mb',
      trustProxy: false,
      shutdownGraceMs: 5000,
      jobsEnabled: true,
      eventRetentionDays: 90,
      metricsToken: null,
      redisUrl: null,
      version: '1.2.3',
    });
  });

  it('CSV exports: a pool of 4 and a 10 s stall timeout by default; both read from the environment', () => {
    expect(buildAppConfig({}).csvExports).toEqual({ poolSize: 4, stallTimeoutMs: 10_000 });
    expect(buildAppConfig({ EXPORT_POOL_SIZE: '2', EXPORT_STALL_TIMEOUT_MS: '250' }).csvExports).toEqual({
      poolSize: 2,
      stallTimeoutMs: 250,
    });
  });

  it('spend controls: no hourly limit and alerts at 100 by default; both read from the environment', () => {
    expect(buildAppConfig({}).credits).toEqual({
      spendRatePerHour: null,
      lowBalanceThresholds: [100],
      expiringNoticeHours: [168, 24],
      runwayAlertDays: [7, 3, 1],
      runwayAlertIntervalSeconds: 3600,
    });
    expect(
      buildAppConfig({
        SPEND_RATE_LIMIT_PER_HOUR: '5000',
        LOW_BALANCE_THRESHOLDS: '10, 1000,0,10',
        CREDITS_EXPIRING_NOTICE_HOURS: '24, 72',
      }).credits,
    ).toMatchObject({ spendRatePerHour: 5000, lowBalanceThresholds: [1000, 10, 0], expiringNoticeHours: [72, 24] });
    expect(buildAppConfig({ LOW_BALANCE_THRESHOLDS: '' }).credits.lowBalanceThresholds).toEqual([]);
    expect(buildAppConfig({}).corrections.perRecord).toBe(100);
    for (const bad of [
      { SPEND_RATE_LIMIT_PER_HOUR: '0' },
      { SPEND_RATE_LIMIT_PER_HOUR: 'lots' },
      { LOW_BALANCE_THRESHOLDS: '-1' },
      { LOW_BALANCE_THRESHOLDS: '1,2,3,4,5,6,7,8,9,10,11' },
      { LOW_BALANCE_THRESHOLDS: '99999999999' },
      { CREDITS_EXPIRING_NOTICE_HOURS: '0' },
      { CREDITS_EXPIRING_NOTICE_HOURS: '168,x' },
      { CORRECTIONS_PER_RECORD: '0' },
      { CORRECTIONS_PER_RECORD: 'many' },
    ]) {
      expect(() => buildAppConfig(bad), JSON.stringify(bad)).toThrow(Object.keys(bad)[0]);
    }
  });

  it('EVENT_RETENTION_DAYS: whole days from 1, 90 by default', () => {
    expect(buildAppConfig({}).eventRetentionDays).toBe(90);
    expect(buildAppConfig({ EVENT_RETENTION_DAYS: '7' }).eventRetentionDays).toBe(7);
    for (const bad of ['0', '-1', '1.5', 'forever', '36501']) {
      expect(problemsOf({ EVENT_RETENTION_DAYS: bad })).toEqual([
        `EVENT_RETENTION_DAYS must be an integer between 1 and 36500 (got "${bad}")`,
      ]);
    }
  });

  it.each([
    ['1', 1],
    ['false', false],
    ['loopback', ['loopback']],
    ['10.0.0.0/8, 192.168.1.7', ['10.0.0.0/8', '192.168.1.7']],
    ['::1/128,fe80::/10,uniquelocal', ['::1/128', 'fe80::/10', 'uniquelocal']],
  ] as Array<[string, unknown]>)('TRUST_PROXY=%s', (value, expected) => {
    expect(buildAppConfig({ TRUST_PROXY: value }).trustProxy).toEqual(expected);
  });

  it('reads every variable', () => {
    const config = buildAppConfig({
      NODE_ENV: 'production',
      PORT: '8080',
      DATABASE_URL: 'postgresql://u:p@db:5432/acc',
      DATA_DIR: '/var/lib/acc',
      DB_MIGRATIONS_RUN: 'false',
      DB_POOL_SIZE: '7',
      DB_STATEMENT_TIMEOUT_MS: '1000',
      DB_LOCK_TIMEOUT_MS: '2000',
      DB_IDLE_IN_TRANSACTION_TIMEOUT_MS: '3000',
      JWT_ACCESS_SECRET: 'jwt-secret-that-is-long-enough-0123456789',
      JWT_MAX_TTL_SECONDS: '900',
      JWT_ISSUER: 'https://auth.example',
      JWT_AUDIENCE: 'accounting',
      WEBHOOK_SECRET_KEY: 'webhook-key-that-is-long-enough-0123456789',
      INTERNAL_API_KEY: 'internal-key-that-is-long-enough-0123456789',
      CORS_ORIGIN: 'https://a.example, https://b.example',
      THROTTLE_TTL_SECONDS: '10',
      THROTTLE_LIMIT: '5',
      THROTTLE_AUTH_FAILURE_LIMIT: '2',
      STREAMING_SESSION_TTL_SECONDS: '120',
      DEFAULT_PRICE_PER_1K_TOKENS: '0.0700',
      PRICING_STRICT: 'yes',
      PRICING_CACHE_TTL_MS: '0',
      LOG_LEVEL: 'debug',
      BODY_LIMIT: '2mb',
      BATCH_BODY_LIMIT: '5mb',
      DB_READ_URL: 'postgres://u:p@replica:5432/acc',
      METRICS_TOKEN: 'metrics-token-that-is-long-enough-0123456789',
      REDIS_URL: 'redis://cache:6379/2',
    });
    expect(config).toMatchObject({
      nodeEnv: 'production',
      port: 8080,
      database: {
        url: 'postgresql://u:p@db:5432/acc',
        embedded: false,
        readUrl: 'postgres://u:p@replica:5432/acc',
        dataDir: '/var/lib/acc',
        migrationsRun: false,
        poolSize: 7,
        statementTimeoutMs: 1000,
        lockTimeoutMs: 2000,
        idleInTransactionTimeoutMs: 3000,
      },
      jwt: {
        secret: 'jwt-secret-that-is-long-enough-0123456789',
        usingDevelopmentSecret: false,
        maxTtlSeconds: 900,
        issuer: 'https://auth.example',
        audience: 'accounting',
      },
      webhooks: { secretKey: 'webhook-key-that-is-long-enough-0123456789', usingDevelopmentKey: false },
      internalApiKey: 'internal-key-that-is-long-enough-0123456789',
      corsOrigin: ['https://a.example', 'https://b.example'],
      throttle: { ttlSeconds: 10, limit: 5, serviceLimit: 500, anonymousLimit: 600, authFailureLimit: 2 },
      streamingSessionTtlSeconds: 120,
      pricing: { defaultPricePer1kTokens: '0.0700', strict: true, cacheTtlMs: 0 },
      logLevel: 'debug',
      bodyLimit: '2mb',
      batchBodyLimit: '5mb',
      metricsToken: 'metrics-token-that-is-long-enough-0123456789',
      redisUrl: 'redis://cache:6379/2',
    });
  });

  it('CORS_ORIGIN=* allows any origin', () => {
    expect(buildAppConfig({ CORS_ORIGIN: '*' }).corsOrigin).toBe(true);
  });

  it('logs only warnings and worse by default under NODE_ENV=test', () => {
    expect(buildAppConfig({ NODE_ENV: 'test', ...SECRETS }).logLevel).toBe('warn');
  });

  describe('database location', () => {
    it('builds a URL from DB_* parts, escaping credentials', () => {
      const database = buildDatabaseConfig({
        DB_HOST: 'db.internal',
        DB_PORT: '6543',
        DB_NAME: 'acc',
        DB_USER: 'svc',
        DB_PASSWORD: 'p@ss/w:rd',
      });
      expect(database).toMatchObject({ url: 'postgres://svc:p%40ss%2Fw%3Ard@db.internal:6543/acc', embedded: false });
      const parsed = new URL(database.url!);
      expect(decodeURIComponent(parsed.password)).toBe('p@ss/w:rd');
    });

    it('DB_* parts default to port 5432, database accounting, user postgres, no password', () => {
      expect(buildDatabaseConfig({ DB_HOST: 'localhost' }).url).toBe('postgres://postgres@localhost:5432/accounting');
    });

    it('DATABASE_URL wins over DB_*', () => {
      expect(buildDatabaseConfig({ DATABASE_URL: 'postgres://a@b/c', DB_HOST: 'ignored' }).url).toBe(
        'postgres://a@b/c',
      );
    });

    it('neither means the embedded database (url null until main.ts passes the one it started)', () => {
      expect(buildAppConfig({ DB_PORT: '5432' }).database).toMatchObject({ url: null, embedded: true });
      const url = 'postgres://postgres:embedded@127.0.0.1:40000/accounting';
      expect(buildAppConfig({}, { embeddedDatabaseUrl: url }).database).toMatchObject({ url, embedded: true });
      // A configured database wins: it is not the embedded one.
      expect(
        buildAppConfig({ DATABASE_URL: 'postgres://a@b/c', ...SECRETS }, { embeddedDatabaseUrl: url }).database,
      ).toMatchObject({ url: 'postgres://a@b/c', embedded: false });
    });

    it('tools read the database settings alone: a migration needs no secret', () => {
      expect(buildDatabaseConfig({ NODE_ENV: 'production', DATABASE_URL: 'postgres://a@b/c' }).url).toBe(
        'postgres://a@b/c',
      );
      expect(() => buildDatabaseConfig({ DATABASE_URL: 'mysql://a@b/c' })).toThrow(/DATABASE_URL/);
    });
  });

  describe('bad values stop start-up with a message naming the variable', () => {
    it.each([
      ['PORT', 'abc'],
      ['PORT', '70000'],
      ['PORT', '-1'],
      ['DB_PORT', 'x', { DB_HOST: 'h' }],
      ['DB_POOL_SIZE', '0'],
      ['DB_POOL_SIZE', '2.5'],
      ['DB_STATEMENT_TIMEOUT_MS', 'soon'],
      ['DB_LOCK_TIMEOUT_MS', '-5'],
      ['DB_IDLE_IN_TRANSACTION_TIMEOUT_MS', '1e3'],
      ['DB_MIGRATIONS_RUN', 'maybe'],
      ['DATABASE_URL', 'mysql://u@h/db'],
      ['THROTTLE_TTL_SECONDS', '0'],
      ['THROTTLE_LIMIT', 'unlimited'],
      ['THROTTLE_AUTH_FAILURE_LIMIT', '0'],
      ['STREAMING_SESSION_TTL_SECONDS', '0'],
      ['DEFAULT_PRICE_PER_1K_TOKENS', '0.12345'],
      ['DEFAULT_PRICE_PER_1K_TOKENS', '-1'],
      ['PRICING_STRICT', 'sometimes'],
      ['PRICING_CACHE_TTL_MS', 'x'],
      ['LOG_LEVEL', 'loud'],
      ['BODY_LIMIT', 'lots'],
      ['BATCH_BODY_LIMIT', 'lots'],
      ['TRUST_PROXY', 'everyone'],
      ['TRUST_PROXY', '99'],
      // Look like addresses, but Express would throw on them at start-up without naming the variable.
      ['TRUST_PROXY', 'beef'],
      ['TRUST_PROXY', '999.1.1.1'],
      ['TRUST_PROXY', '10.0.0.0/33'],
      ['TRUST_PROXY', '10.0.0.0/8/8'],
      ['TRUST_PROXY', 'true'],
      ['WEBHOOK_ALLOWED_NETWORKS', '10.0.0.0/33'],
      ['WEBHOOK_ALLOWED_NETWORKS', '10.0.0.0/8,intranet'],
      ['WEBHOOK_ALLOWED_NETWORKS', '10.0.0/8'],
      ['SHUTDOWN_GRACE_MS', 'soon'],
      ['EXPORT_POOL_SIZE', '0'],
      ['EXPORT_POOL_SIZE', '101'],
      ['EXPORT_STALL_TIMEOUT_MS', '99'],
      ['EXPORT_STALL_TIMEOUT_MS', '10s'],
      ['DB_READ_URL', 'mysql://u@replica/db', { DATABASE_URL: 'postgres://u@h/db' }],
      // A replica without a primary: the embedded database has none.
      ['DB_READ_URL', 'postgres://u@replica/db'],
      ['REDIS_URL', 'localhost:6379'],
      ['REDIS_URL', 'http://cache:6379'],
      ['METRICS_TOKEN', 'short'],
      ['METRICS_TOKEN', 'x'.repeat(31)],
      ['METRICS_TOKEN', 'has a space in it somewhere, long enough'],
      ['INTERNAL_API_KEY', 'letmein'],
      ['JWT_ACCESS_SECRET', 'x'.repeat(31)],
      ['WEBHOOK_SECRET_KEY', 'short'],
      ['JWT_MAX_TTL_SECONDS', '0'],
      ['JWT_MAX_TTL_SECONDS', 'forever'],
      ['JWT_MAX_TTL_SECONDS', String(365 * 86_400 + 1)],
      ['NODE_ENV', 'staging'],
    ] as Array<[string, string, Record<string, string>?]>)('%s=%s', (name, value, extra = {}) => {
      const problems = problemsOf({ ...SECRETS, ...extra, [name]: value });
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatch(new RegExp(`^${name} `));
    });

    it('reports every problem at once, in one error message', () => {
      try {
        buildAppConfig({ NODE_ENV: 'production', PORT: 'x', LOG_LEVEL: 'loud' });
        expect.unreachable();
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigValidationError);
        const message = (error as Error).message;
        expect(message).toMatch(/^Invalid configuration:/);
        for (const name of ['PORT', 'LOG_LEVEL', 'JWT_ACCESS_SECRET']) expect(message).toContain(name);
      }
    });

    it('blank values count as unset', () => {
      expect(buildAppConfig({ PORT: '', LOG_LEVEL: '  ' })).toMatchObject({ port: 3001, logLevel: 'info' });
    });
  });
});

describe('the webhook settings', () => {
  it('reads the webhook variables', () => {
    const config = buildAppConfig({
      WEBHOOK_SECRET_KEY: 'k'.repeat(40),
      WEBHOOK_ALLOW_PRIVATE_URLS: 'true',
      WEBHOOK_WORKER_ENABLED: 'false',
      WEBHOOK_WORKER_CONCURRENCY: '4',
      WEBHOOK_POLL_INTERVAL_MS: '250',
    });
    expect(config.webhooks).toEqual({
      allowPrivateUrls: true,
      allowedPorts: [443],
      allowedNetworks: [],
      secretKey: 'k'.repeat(40),
      usingDevelopmentKey: false,
      workerEnabled: false,
      concurrency: 4,
      pollIntervalMs: 250,
    });
  });
});

describe('attribution, throttling and operations', () => {
  const PROD = { NODE_ENV: 'production', DATABASE_URL: 'postgres://svc@db/acc', ...SECRETS };

  it('throttles service principals at 100 × THROTTLE_LIMIT and anonymous callers at 600 by default', () => {
    expect(buildAppConfig({}).throttle).toMatchObject({ limit: 1000, serviceLimit: 100_000, anonymousLimit: 600 });
    expect(buildAppConfig({ THROTTLE_LIMIT: '20' }).throttle.serviceLimit).toBe(2000);
    expect(
      buildAppConfig({ THROTTLE_LIMIT: '20', SERVICE_THROTTLE_LIMIT: '50', ANONYMOUS_THROTTLE_LIMIT: '7' }).throttle,
    ).toMatchObject({ limit: 20, serviceLimit: 50, anonymousLimit: 7 });
    expect(problemsOf({ SERVICE_THROTTLE_LIMIT: '0' })).toEqual([expect.stringMatching(/SERVICE_THROTTLE_LIMIT/)]);
  });

  it('SERVICE_KEY_MAX_DAYS: 365 by default, 1–3650', () => {
    expect(buildAppConfig({}).serviceKeyMaxDays).toBe(365);
    expect(buildAppConfig({ SERVICE_KEY_MAX_DAYS: '30' }).serviceKeyMaxDays).toBe(30);
    expect(problemsOf({ SERVICE_KEY_MAX_DAYS: '0' })).toEqual([expect.stringMatching(/SERVICE_KEY_MAX_DAYS/)]);
  });

  it('PRICING_STRICT defaults to true in production only; it can still be set either way', () => {
    expect(buildAppConfig(PROD).pricing.strict).toBe(true);
    expect(buildAppConfig({ ...PROD, PRICING_STRICT: 'false' }).pricing.strict).toBe(false);
    expect(buildAppConfig({}).pricing.strict).toBe(false);
    expect(buildAppConfig({ PRICING_STRICT: 'true' }).pricing.strict).toBe(true);
  });

  it('WEBHOOK_ALLOW_PRIVATE_URLS=true stops start-up in production; WEBHOOK_ALLOWED_PORTS is a port list', () => {
    expect(problemsOf({ ...PROD, WEBHOOK_ALLOW_PRIVATE_URLS: 'true' })).toEqual([
      expect.stringMatching(/WEBHOOK_ALLOW_PRIVATE_URLS=true is refused with NODE_ENV=production/),
    ]);
    expect(buildAppConfig({ WEBHOOK_ALLOW_PRIVATE_URLS: 'true' }).webhooks.allowPrivateUrls).toBe(true);
    expect(buildAppConfig({}).webhooks.allowedPorts).toEqual([443]);
    expect(buildAppConfig({ WEBHOOK_ALLOWED_PORTS: '443, 8443' }).webhooks.allowedPorts).toEqual([443, 8443]);
    expect(problemsOf({ WEBHOOK_ALLOWED_PORTS: '443,99999' })).toEqual([
      expect.stringMatching(/WEBHOOK_ALLOWED_PORTS/),
    ]);
  });

  it('DATABASE_MIGRATION_URL: another role than DATABASE_URL, next to a configured database', () => {
    const both = buildAppConfig({ ...PROD, DATABASE_MIGRATION_URL: 'postgres://owner:pw@db/acc' });
    expect(both.database).toMatchObject({ url: 'postgres://svc@db/acc', migrationUrl: 'postgres://owner:pw@db/acc' });
    expect(buildAppConfig(PROD).database.migrationUrl).toBeNull();
    expect(problemsOf({ ...PROD, DATABASE_MIGRATION_URL: 'postgres://svc:other@db/acc' })).toEqual([
      expect.stringMatching(/must log in as another role than DATABASE_URL/),
    ]);
    expect(problemsOf({ DATABASE_MIGRATION_URL: 'postgres://owner@db/acc' })).toEqual([
      expect.stringMatching(/needs DATABASE_URL or DB_HOST/),
    ]);
    expect(problemsOf({ ...PROD, DATABASE_MIGRATION_URL: 'mysql://owner@db/acc' })).toEqual([
      expect.stringMatching(/DATABASE_MIGRATION_URL must be a postgres/),
    ]);
    // The embedded database hands both in itself.
    const embedded = buildAppConfig(
      {},
      { embeddedDatabaseUrl: 'postgres://svc@x/a', embeddedMigrationUrl: 'postgres://o@x/a' },
    );
    expect(embedded.database).toMatchObject({
      embedded: true,
      url: 'postgres://svc@x/a',
      migrationUrl: 'postgres://o@x/a',
    });
  });
});
