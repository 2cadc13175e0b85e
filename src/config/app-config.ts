import { isIP } from 'node:net';

/**
 * The service's configuration: read once from the environment, validated, typed.
 * `buildAppConfig` is pure so it can be unit-tested and shared with `ormconfig.ts`.
 */
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface DatabaseConfig {
  /** Connection URL; null means "start the embedded PostgreSQL". */
  url: string | null;
  /** DB_READ_URL: a streaming replica for statistics, record lists and CSV exports (null: the primary). */
  readUrl: string | null;
  dataDir: string;
  migrationsRun: boolean;
  poolSize: number;
  statementTimeoutMs: number;
  lockTimeoutMs: number;
  idleInTransactionTimeoutMs: number;
}

export const METERING_TRUSTS = ['service', 'users'] as const;
export type MeteringTrust = (typeof METERING_TRUSTS)[number];

export interface AppConfig {
  nodeEnv: string;
  port: number;
  database: DatabaseConfig;
  jwt: { secret: string; usingDevelopmentSecret: boolean };
  internalApiKey: string | null;
  corsOrigin: string[] | boolean;
  throttle: { ttlSeconds: number; limit: number; authFailureLimit: number };
  streamingSessionTtlSeconds: number;
  /**
   * METERING_TRUST: who may record usage and open or settle sessions. `service` (default): service
   * principals only (admin JWTs, keys with usage:ingest), naming the billed user; `users`: every
   * caller meters its own account (the v1/v2 behaviour).
   */
  meteringTrust: MeteringTrust;
  csvExports: CsvExportsConfig;
  pricing: { defaultPricePer1kTokens: string; strict: boolean; cacheTtlMs: number };
  credits: {
    /** SPEND_RATE_LIMIT_PER_HOUR: every user's hourly spend limit unless set per user (null: none). */
    spendRatePerHour: number | null;
    /** LOW_BALANCE_THRESHOLDS: balance.low thresholds unless set per user. */
    lowBalanceThresholds: number[];
    /** CREDITS_EXPIRING_NOTICE_HOURS: how long before expiry credits.expiring is sent. */
    expiringNoticeHours: number;
  };
  logLevel: LogLevel;
  bodyLimit: string;
  /** BATCH_BODY_LIMIT: the JSON body limit of POST /api/usage/records/batch (every other route: bodyLimit). */
  batchBodyLimit: string;
  /** Express `trust proxy`: false, a hop count, or a list of trusted proxy addresses/CIDRs. */
  trustProxy: boolean | number | string[];
  /** JOBS_ENABLED: whether this instance runs the scheduled jobs (expiry, renewals, cleanup). */
  jobsEnabled: boolean;
  /** How long readiness answers 503 after SIGTERM while requests are still served. */
  shutdownGraceMs: number;
  /** METRICS_TOKEN: the bearer token GET /metrics requires (null: the route answers 404). */
  metricsToken: string | null;
  /** REDIS_URL: rate-limit counters shared by every instance (null: per instance, in memory). */
  redisUrl: string | null;
  webhooks: WebhooksConfig;
  version: string;
}

/** CSV exports hold a database transaction while they stream: they are kept apart and bounded. */
export interface CsvExportsConfig {
  /** EXPORT_POOL_SIZE: connections of the exports' own pool (on DB_READ_URL when set), apart from DB_POOL_SIZE. */
  poolSize: number;
  /** EXPORT_STALL_TIMEOUT_MS: an export whose client has taken nothing for this long is ended. */
  stallTimeoutMs: number;
}

export interface WebhooksConfig {
  /** WEBHOOK_ALLOW_PRIVATE_URLS: http and loopback/private addresses allowed (development, tests). */
  allowPrivateUrls: boolean;
  /** WEBHOOK_SECRET_KEY: encrypts endpoint secrets at rest (AES-256-GCM, key derived with HKDF). */
  secretKey: string;
  usingDevelopmentKey: boolean;
  /** WEBHOOK_WORKER_ENABLED: this instance delivers webhooks (every instance may). */
  workerEnabled: boolean;
  /** WEBHOOK_WORKER_CONCURRENCY: attempts in flight per instance. */
  concurrency: number;
  /** WEBHOOK_POLL_INTERVAL_MS: the fallback scan when no NOTIFY arrives. */
  pollIntervalMs: number;
}

export const DEVELOPMENT_JWT_SECRET = 'development-only-secret-change-me-0123456789';
export const DEVELOPMENT_WEBHOOK_SECRET_KEY = 'development-only-webhook-key-change-me-0123456789';

export class ConfigValidationError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigValidationError';
  }
}

type Env = Record<string, string | undefined>;

class EnvReader {
  readonly problems: string[] = [];
  constructor(readonly env: Env) {}

  raw(name: string): string | undefined {
    const value = this.env[name];
    return value === undefined || value.trim() === '' ? undefined : value.trim();
  }

  string(name: string, fallback: string): string {
    return this.raw(name) ?? fallback;
  }

  int(name: string, fallback: number, min: number, max: number): number {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
      this.problems.push(`${name} must be an integer between ${min} and ${max} (got "${value}")`);
      return fallback;
    }
    return Number(value);
  }

  bool(name: string, fallback: boolean): boolean {
    const value = this.raw(name)?.toLowerCase();
    if (value === undefined) return fallback;
    if (['true', '1', 'yes'].includes(value)) return true;
    if (['false', '0', 'no'].includes(value)) return false;
    this.problems.push(`${name} must be true or false (got "${value}")`);
    return fallback;
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    if (!(allowed as readonly string[]).includes(value)) {
      this.problems.push(`${name} must be one of ${allowed.join(', ')} (got "${value}")`);
      return fallback;
    }
    return value as T;
  }
}

const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function databaseUrl(read: EnvReader): string | null {
  const url = read.raw('DATABASE_URL');
  if (url) {
    if (!/^postgres(ql)?:\/\//.test(url)) {
      read.problems.push('DATABASE_URL must be a postgres:// or postgresql:// URL');
    }
    return url;
  }
  const host = read.raw('DB_HOST');
  if (!host) return null;
  const port = read.int('DB_PORT', 5432, 1, 65535);
  const name = read.string('DB_NAME', 'accounting');
  const user = read.string('DB_USER', 'postgres');
  const password = read.raw('DB_PASSWORD');
  const auth = password ? `${encodeURIComponent(user)}:${encodeURIComponent(password)}` : encodeURIComponent(user);
  return `postgres://${auth}@${host}:${port}/${encodeURIComponent(name)}`;
}

/** DB_READ_URL: only next to a primary URL (the embedded database has no replica). */
function readUrl(read: EnvReader, primary: string | null): string | null {
  const url = read.raw('DB_READ_URL');
  if (!url) return null;
  if (!/^postgres(ql)?:\/\//.test(url)) read.problems.push('DB_READ_URL must be a postgres:// or postgresql:// URL');
  else if (!primary) read.problems.push('DB_READ_URL needs DATABASE_URL or DB_HOST (the primary) as well');
  return url;
}

function redisUrl(read: EnvReader): string | null {
  const url = read.raw('REDIS_URL');
  if (url && !/^rediss?:\/\/[^/]/.test(url)) read.problems.push('REDIS_URL must be a redis:// or rediss:// URL');
  return url ?? null;
}

/** METRICS_TOKEN guards the metrics; a short one would be guessable. */
function metricsToken(read: EnvReader): string | null {
  const token = read.raw('METRICS_TOKEN');
  if (token && (token.length < 16 || /\s/.test(token)))
    read.problems.push('METRICS_TOKEN must be at least 16 characters without spaces');
  return token ?? null;
}

function jwtSecret(read: EnvReader, nodeEnv: string): AppConfig['jwt'] {
  const secret = read.raw('JWT_ACCESS_SECRET');
  if (nodeEnv === 'production') {
    if (!secret) read.problems.push('JWT_ACCESS_SECRET is required when NODE_ENV=production');
    else if (secret.length < 32) read.problems.push('JWT_ACCESS_SECRET must be at least 32 characters');
    return { secret: secret ?? '', usingDevelopmentSecret: false };
  }
  return secret
    ? { secret, usingDevelopmentSecret: false }
    : { secret: DEVELOPMENT_JWT_SECRET, usingDevelopmentSecret: true };
}

function webhooksConfig(read: EnvReader, nodeEnv: string): WebhooksConfig {
  const key = read.raw('WEBHOOK_SECRET_KEY');
  if (key !== undefined && key.length < 32) read.problems.push('WEBHOOK_SECRET_KEY must be at least 32 characters');
  if (key === undefined && nodeEnv === 'production') {
    read.problems.push('WEBHOOK_SECRET_KEY is required when NODE_ENV=production');
  }
  return {
    allowPrivateUrls: read.bool('WEBHOOK_ALLOW_PRIVATE_URLS', false),
    secretKey: key ?? DEVELOPMENT_WEBHOOK_SECRET_KEY,
    usingDevelopmentKey: key === undefined,
    workerEnabled: read.bool('WEBHOOK_WORKER_ENABLED', true),
    concurrency: read.int('WEBHOOK_WORKER_CONCURRENCY', 16, 1, 256),
    pollIntervalMs: read.int('WEBHOOK_POLL_INTERVAL_MS', 1000, 50, 60_000),
  };
}

function decimalPrice(read: EnvReader, name: string, fallback: string): string {
  const value = read.raw(name) ?? fallback;
  if (!/^\d{1,6}(\.\d{1,4})?$/.test(value)) {
    read.problems.push(`${name} must be a non-negative decimal with at most 4 places (got "${value}")`);
    return fallback;
  }
  return value;
}

/** A size body-parser understands: bytes, or a number with b/kb/mb (e.g. `100kb`). */
function bodyLimit(read: EnvReader, name = 'BODY_LIMIT', fallback = '100kb'): string {
  const value = read.string(name, fallback);
  if (!/^\d+(\.\d+)?\s*(b|kb|mb)?$/i.test(value)) {
    read.problems.push(`${name} must be a size such as 100kb or 1mb (got "${value}")`);
    return fallback;
  }
  return value;
}

/** A comma list of at most 10 credit amounts (`100` or `1000,100,0`); empty: no low-balance alerts. */
function thresholds(read: EnvReader): number[] {
  const value = read.env.LOW_BALANCE_THRESHOLDS ?? '100';
  if (value.trim() === '') return [];
  const parts = value.split(',').map((p) => p.trim());
  if (parts.length > 10 || !parts.every((p) => /^\d{1,10}$/.test(p) && Number(p) <= 2_147_483_647)) {
    read.problems.push(`LOW_BALANCE_THRESHOLDS must be up to 10 comma-separated credit amounts (got "${value}")`);
    return [100];
  }
  return [...new Set(parts.map(Number))].sort((a, b) => b - a);
}

const TRUST_PROXY_KEYWORDS = ['loopback', 'linklocal', 'uniquelocal'];

/** An address or CIDR that Express (proxy-addr) accepts: a bad one would crash start-up later, unnamed. */
function isAddressOrCidr(entry: string): boolean {
  const [address, prefix, ...rest] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  return prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128));
}

/**
 * TRUST_PROXY: unset/false = the socket's address is the client; a hop count (e.g. 1 behind one
 * gateway); or a comma list of trusted proxy addresses, CIDRs or Express keywords (loopback…).
 */
function trustProxy(read: EnvReader): AppConfig['trustProxy'] {
  const value = read.raw('TRUST_PROXY');
  if (value === undefined || ['false', '0', 'no'].includes(value.toLowerCase())) return false;
  if (/^\d+$/.test(value)) {
    const hops = Number(value);
    if (hops <= 32) return hops;
  } else {
    const entries = value.split(',').map((e) => e.trim());
    if (entries.every((e) => TRUST_PROXY_KEYWORDS.includes(e) || isAddressOrCidr(e))) return entries;
  }
  read.problems.push(`TRUST_PROXY must be false, a hop count (0–32) or a list of addresses/CIDRs (got "${value}")`);
  return false;
}

export function buildAppConfig(env: Env, version = '0.0.0'): AppConfig {
  const read = new EnvReader(env);
  const nodeEnv = read.string('NODE_ENV', 'development');
  const cors = read.raw('CORS_ORIGIN');
  const primaryUrl = databaseUrl(read);
  const config: AppConfig = {
    nodeEnv,
    port: read.int('PORT', 3001, 0, 65535),
    database: {
      url: primaryUrl,
      readUrl: readUrl(read, primaryUrl),
      dataDir: read.string('DATA_DIR', './data'),
      migrationsRun: read.bool('DB_MIGRATIONS_RUN', true),
      poolSize: read.int('DB_POOL_SIZE', 20, 1, 500),
      statementTimeoutMs: read.int('DB_STATEMENT_TIMEOUT_MS', 15000, 0, 3_600_000),
      lockTimeoutMs: read.int('DB_LOCK_TIMEOUT_MS', 10000, 0, 3_600_000),
      idleInTransactionTimeoutMs: read.int('DB_IDLE_IN_TRANSACTION_TIMEOUT_MS', 30000, 0, 3_600_000),
    },
    jwt: jwtSecret(read, nodeEnv),
    internalApiKey: read.raw('INTERNAL_API_KEY') ?? null,
    corsOrigin: cors === undefined ? false : cors === '*' ? true : cors.split(',').map((o) => o.trim()),
    throttle: {
      ttlSeconds: read.int('THROTTLE_TTL_SECONDS', 60, 1, 86_400),
      limit: read.int('THROTTLE_LIMIT', 1000, 1, 10_000_000),
      authFailureLimit: read.int('THROTTLE_AUTH_FAILURE_LIMIT', 30, 1, 10_000_000),
    },
    streamingSessionTtlSeconds: read.int('STREAMING_SESSION_TTL_SECONDS', 3600, 1, 30 * 86_400),
    meteringTrust: read.oneOf('METERING_TRUST', METERING_TRUSTS, 'service'),
    csvExports: {
      poolSize: read.int('EXPORT_POOL_SIZE', 4, 1, 100),
      stallTimeoutMs: read.int('EXPORT_STALL_TIMEOUT_MS', 10_000, 100, 600_000),
    },
    pricing: {
      defaultPricePer1kTokens: decimalPrice(read, 'DEFAULT_PRICE_PER_1K_TOKENS', '1'),
      strict: read.bool('PRICING_STRICT', false),
      cacheTtlMs: read.int('PRICING_CACHE_TTL_MS', 5000, 0, 3_600_000),
    },
    credits: {
      spendRatePerHour: read.raw('SPEND_RATE_LIMIT_PER_HOUR')
        ? read.int('SPEND_RATE_LIMIT_PER_HOUR', 0, 1, 2_147_483_647)
        : null,
      lowBalanceThresholds: thresholds(read),
      expiringNoticeHours: read.int('CREDITS_EXPIRING_NOTICE_HOURS', 72, 1, 24 * 3650),
    },
    logLevel: read.oneOf('LOG_LEVEL', LOG_LEVELS, nodeEnv === 'test' ? 'warn' : 'info'),
    bodyLimit: bodyLimit(read),
    batchBodyLimit: bodyLimit(read, 'BATCH_BODY_LIMIT', '2mb'),
    trustProxy: trustProxy(read),
    shutdownGraceMs: read.int('SHUTDOWN_GRACE_MS', 5000, 0, 600_000),
    jobsEnabled: read.bool('JOBS_ENABLED', true),
    metricsToken: metricsToken(read),
    redisUrl: redisUrl(read),
    webhooks: webhooksConfig(read, nodeEnv),
    version,
  };
  if (read.problems.length > 0) throw new ConfigValidationError(read.problems);
  return config;
}
