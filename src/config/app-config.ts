import { type CorrectionsConfig, correctionsConfig } from './corrections-config.js';
import { type CreditsConfig, creditsConfig } from './credits-config.js';
import { type DatabaseConfig, databaseConfig } from './database-config.js';
import { type Env, EnvReader } from './env-reader.js';
import { type ParquetExportConfig, parquetExportConfig } from './export-config.js';
import { type FinanceConfig, financeConfig } from './finance-config.js';
import { type GatewayConfig, gatewayConfig } from './gateway-config.js';
import { type HeavyReadsConfig, heavyReadsConfig } from './heavy-reads-config.js';
import { type MailConfig, mailConfig, publicUrl } from './mail-config.js';
import { isAddressOrCidr, networks } from './networks.js';
import { type PortalConfig, portalConfig } from './portal-config.js';
import { type CatalogConfig, catalogConfig, decimalPrice } from './pricing-config.js';
import { type SellingConfig, sellingConfig } from './selling-config.js';

export { buildDatabaseConfig, type DatabaseConfig } from './database-config.js';
export { ConfigValidationError } from './env-reader.js';

/**
 * The service's configuration: read once from the environment, validated, typed.
 * `buildAppConfig` is pure so it can be unit-tested and shared with `ormconfig.ts`.
 */
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
export const LOG_FORMATS = ['pretty', 'json'] as const;
/** LOG_FORMAT: `pretty` (text for a person; default in development) or `json` (one object a line; elsewhere). */
export type LogFormat = (typeof LOG_FORMATS)[number];
export const NODE_ENVS = ['development', 'test', 'production'] as const;
export type NodeEnv = (typeof NODE_ENVS)[number];
export const METERING_TRUSTS = ['service', 'users'] as const;
export type MeteringTrust = (typeof METERING_TRUSTS)[number];

export interface AppConfig {
  nodeEnv: NodeEnv;
  port: number;
  /** PUBLIC_URL: the service's address as users reach it (default `http://localhost:<PORT>`). */
  publicUrl: string;
  portal: PortalConfig;
  parquetExports: ParquetExportConfig;
  database: DatabaseConfig;
  jwt: JwtConfig;
  /** INTERNAL_API_KEY: the service-to-service key of POST /api/api-keys/verify (null: admins only). */
  internalApiKey: string | null;
  corsOrigin: string[] | boolean;
  throttle: ThrottleConfig;
  streamingSessionTtlSeconds: number;
  /** METERING_TRUST: who meters: `service` (default) service principals only, naming the user; `users` every caller. */
  meteringTrust: MeteringTrust;
  csvExports: CsvExportsConfig;
  heavyReads: HeavyReadsConfig;
  pricing: { defaultPricePer1kTokens: string; strict: boolean; cacheTtlMs: number; catalog: CatalogConfig };
  credits: CreditsConfig;
  logLevel: LogLevel;
  logFormat: LogFormat;
  /** SWAGGER_ENABLED: Swagger UI at /api/docs (default true, false in production); /api/docs-json is always served. */
  swaggerEnabled: boolean;
  bodyLimit: string;
  /** BATCH_BODY_LIMIT: the JSON body limit of POST /api/usage/records/batch (every other route: bodyLimit). */
  batchBodyLimit: string;
  /** Express `trust proxy`: false, a hop count, or a list of trusted proxy addresses/CIDRs. */
  trustProxy: boolean | number | string[];
  /** JOBS_ENABLED: whether this instance runs the scheduled jobs (expiry, renewals, cleanup). */
  jobsEnabled: boolean;
  /** EVENT_RETENTION_DAYS: events older than this, and their finished deliveries, are deleted. */
  eventRetentionDays: number;
  /** MAX_API_KEYS_PER_USER: active API keys one user may hold; one more is refused (API_KEY_QUOTA). */
  maxApiKeysPerUser: number;
  /** SERVICE_KEY_MAX_DAYS: a service key (usage:ingest) expires at most this many days after its creation. */
  serviceKeyMaxDays: number;
  /** How long readiness answers 503 after SIGTERM while requests are still served. */
  shutdownGraceMs: number;
  /** METRICS_TOKEN: the bearer token GET /metrics requires (null: the route answers 404). */
  metricsToken: string | null;
  /** REDIS_URL: rate-limit counters shared by every instance (null: per instance, in memory). */
  redisUrl: string | null;
  webhooks: WebhooksConfig;
  /** STRIPE_WEBHOOK_SECRET: verifies POST /api/payments/stripe/webhook (null: the route answers 404). */
  stripeWebhookSecret: string | null;
  selling: SellingConfig;
  finance: FinanceConfig;
  corrections: CorrectionsConfig;
  gateway: GatewayConfig;
  mail: MailConfig;
  version: string;
}

export interface ThrottleConfig {
  ttlSeconds: number;
  /** THROTTLE_LIMIT: requests per window of one ordinary user (all their keys and tokens together). */
  limit: number;
  /** SERVICE_THROTTLE_LIMIT: requests per window of one service principal (default 100 × limit). */
  serviceLimit: number;
  /** ANONYMOUS_THROTTLE_LIMIT: requests per window without any credential, per client address. */
  anonymousLimit: number;
  /** THROTTLE_AUTH_FAILURE_LIMIT: wrong secrets per window per client address before it is blocked. */
  authFailureLimit: number;
}

export interface JwtConfig {
  /** JWT_ACCESS_SECRET: the HS256 key of the authentication service. */
  secret: string;
  /** The fixed development secret is in use (embedded database, NODE_ENV unset or development). */
  usingDevelopmentSecret: boolean;
  /** JWT_MAX_TTL_SECONDS: the longest lifetime a token may have (exp − iat; exp − now without iat). */
  maxTtlSeconds: number;
  /** JWT_ISSUER: when set, a token's `iss` must be exactly this. */
  issuer: string | null;
  /** JWT_AUDIENCE: when set, a token's `aud` must be (or contain) this. */
  audience: string | null;
}

/** CSV exports hold a database transaction while they stream: they are kept apart and bounded. */
export interface CsvExportsConfig {
  /** EXPORT_POOL_SIZE: connections of the exports' own pool (on DB_READ_URL when set), apart from DB_POOL_SIZE. */
  poolSize: number;
  /** EXPORT_STALL_TIMEOUT_MS: an export whose client has taken nothing for this long is ended. */
  stallTimeoutMs: number;
}

export interface WebhooksConfig {
  /** WEBHOOK_ALLOW_PRIVATE_URLS: http, any port and loopback/private addresses allowed (development, tests). */
  allowPrivateUrls: boolean;
  /** WEBHOOK_ALLOWED_PORTS: the ports a webhook URL may name when private URLs are not allowed (default 443). */
  allowedPorts: number[];
  /**
   * WEBHOOK_ALLOWED_NETWORKS: CIDRs of the operator's own networks; an endpoint whose addresses all fall
   * in them is allowed in every NODE_ENV, over http or https, on any port (default: none).
   */
  allowedNetworks: string[];
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
const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function redisUrl(read: EnvReader): string | null {
  const url = read.raw('REDIS_URL');
  if (url && !/^rediss?:\/\/[^/]/.test(url)) read.problems.push('REDIS_URL must be a redis:// or rediss:// URL');
  return url ?? null;
}

/** Every secret and token the service checks callers against: shorter ones could be guessed. */
export const MIN_SECRET_LENGTH = 32;

/**
 * The fixed development secrets are printed in this repository: anyone holding them can mint an
 * admin token or open webhook secrets. They serve only `npm start` on a developer's machine, i.e. the
 * embedded database with NODE_ENV unset or `development`; anywhere else (any DATABASE_URL or
 * DB_HOST, NODE_ENV=test or production) a real secret is required.
 */
export function mayUseDevelopmentSecrets(nodeEnv: NodeEnv, database: Pick<DatabaseConfig, 'embedded'>): boolean {
  return nodeEnv === 'development' && database.embedded;
}

/** A secret the service cannot run without: the development value where allowed, else required. */
function requiredSecret(
  read: EnvReader,
  name: string,
  development: string,
  developmentAllowed: boolean,
): { value: string; development: boolean } {
  const value = read.raw(name);
  if (value === undefined) {
    if (developmentAllowed) return { value: development, development: true };
    read.problems.push(
      `${name} is required (at least ${MIN_SECRET_LENGTH} characters): the development value serves only ` +
        'the embedded database with NODE_ENV unset or development',
    );
    return { value: '', development: false };
  }
  if (value.length < MIN_SECRET_LENGTH) read.problems.push(`${name} must be at least ${MIN_SECRET_LENGTH} characters`);
  else if (value === development && !developmentAllowed)
    read.problems.push(`${name} must not be the development value printed in this repository`);
  return { value, development: false };
}

/** A secret that is optional, but when set must be long enough. */
function optionalSecret(read: EnvReader, name: string): string | null {
  const value = read.raw(name);
  if (value !== undefined && value.length < MIN_SECRET_LENGTH)
    read.problems.push(`${name} must be at least ${MIN_SECRET_LENGTH} characters when set`);
  return value ?? null;
}

/** STRIPE_WEBHOOK_SECRET: the endpoint's signing secret from Stripe (`whsec_…`); a header value, so no spaces. */
function stripeWebhookSecret(read: EnvReader): string | null {
  const secret = read.raw('STRIPE_WEBHOOK_SECRET');
  if (secret !== undefined && !/^whsec_\S+$/.test(secret))
    read.problems.push('STRIPE_WEBHOOK_SECRET must be the endpoint secret Stripe shows (whsec_…, no spaces)');
  return secret || null;
}

/** METRICS_TOKEN guards the metrics; it travels in an Authorization header, so no spaces. */
function metricsToken(read: EnvReader): string | null {
  const token = read.raw('METRICS_TOKEN');
  if (token && (token.length < MIN_SECRET_LENGTH || /\s/.test(token)))
    read.problems.push(`METRICS_TOKEN must be at least ${MIN_SECRET_LENGTH} characters without spaces`);
  return token ?? null;
}

function jwtConfig(read: EnvReader, developmentAllowed: boolean): JwtConfig {
  const secret = requiredSecret(read, 'JWT_ACCESS_SECRET', DEVELOPMENT_JWT_SECRET, developmentAllowed);
  return {
    secret: secret.value,
    usingDevelopmentSecret: secret.development,
    maxTtlSeconds: read.int('JWT_MAX_TTL_SECONDS', 86_400, 1, 365 * 86_400),
    issuer: read.raw('JWT_ISSUER') ?? null,
    audience: read.raw('JWT_AUDIENCE') ?? null,
  };
}

/** A comma list of TCP ports (1–65535). */
function ports(read: EnvReader, name: string, fallback: number[]): number[] {
  const value = read.raw(name);
  if (value === undefined) return fallback;
  const parts = value.split(',').map((p) => p.trim());
  if (!parts.every((p) => /^\d{1,5}$/.test(p) && Number(p) >= 1 && Number(p) <= 65535)) {
    read.problems.push(`${name} must be a comma list of ports (1–65535), e.g. 443,8443 (got "${value}")`);
    return fallback;
  }
  return [...new Set(parts.map(Number))];
}

function webhooksConfig(read: EnvReader, developmentAllowed: boolean, nodeEnv: NodeEnv): WebhooksConfig {
  const key = requiredSecret(read, 'WEBHOOK_SECRET_KEY', DEVELOPMENT_WEBHOOK_SECRET_KEY, developmentAllowed);
  const allowPrivateUrls = read.bool('WEBHOOK_ALLOW_PRIVATE_URLS', false);
  // In production it would let any admin (or a stolen admin token) aim deliveries at internal services.
  if (allowPrivateUrls && nodeEnv === 'production') {
    read.problems.push(
      'WEBHOOK_ALLOW_PRIVATE_URLS=true is refused with NODE_ENV=production: webhooks would reach internal addresses',
    );
  }
  return {
    allowPrivateUrls,
    allowedPorts: ports(read, 'WEBHOOK_ALLOWED_PORTS', [443]),
    allowedNetworks: networks(read, 'WEBHOOK_ALLOWED_NETWORKS'),
    secretKey: key.value,
    usingDevelopmentKey: key.development,
    workerEnabled: read.bool('WEBHOOK_WORKER_ENABLED', true),
    concurrency: read.int('WEBHOOK_WORKER_CONCURRENCY', 16, 1, 256),
    pollIntervalMs: read.int('WEBHOOK_POLL_INTERVAL_MS', 1000, 50, 60_000),
  };
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
const TRUST_PROXY_KEYWORDS = ['loopback', 'linklocal', 'uniquelocal'];

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

function throttleConfig(read: EnvReader): ThrottleConfig {
  const limit = read.int('THROTTLE_LIMIT', 1000, 1, 10_000_000);
  return {
    ttlSeconds: read.int('THROTTLE_TTL_SECONDS', 60, 1, 86_400),
    limit,
    // A service key meters every user of the platform: it must not share one user's budget.
    serviceLimit: read.int('SERVICE_THROTTLE_LIMIT', Math.min(100 * limit, 1_000_000_000), 1, 1_000_000_000),
    anonymousLimit: read.int('ANONYMOUS_THROTTLE_LIMIT', 600, 1, 10_000_000),
    authFailureLimit: read.int('THROTTLE_AUTH_FAILURE_LIMIT', 30, 1, 10_000_000),
  };
}

/** NODE_ENV: unset means development; any other spelling (`prod`, `Production`, `staging`) is refused. */
function nodeEnvOf(read: EnvReader): NodeEnv {
  if (read.raw('NODE_ENV') === undefined) return 'development';
  // A refused value is judged as production by the other rules: it stops start-up anyway.
  return read.oneOf('NODE_ENV', NODE_ENVS, 'production');
}

export interface BuildAppConfigOptions {
  version?: string;
  /** The URL of the embedded PostgreSQL that main.ts started (used only without DATABASE_URL/DB_HOST). */
  embeddedDatabaseUrl?: string;
  /** The embedded PostgreSQL's owner URL (migrations), when the service connects as its own role. */
  embeddedMigrationUrl?: string;
}

export function buildAppConfig(env: Env, options: BuildAppConfigOptions = {}): AppConfig {
  const read = new EnvReader(env);
  const nodeEnv = nodeEnvOf(read);
  const cors = read.raw('CORS_ORIGIN');
  const database = databaseConfig(read, {
    url: options.embeddedDatabaseUrl,
    migrationUrl: options.embeddedMigrationUrl,
  });
  const developmentSecrets = mayUseDevelopmentSecrets(nodeEnv, database);
  const port = read.int('PORT', 3001, 0, 65535);
  const config: AppConfig = {
    nodeEnv,
    port,
    publicUrl: publicUrl(read, port),
    portal: portalConfig(read),
    parquetExports: parquetExportConfig(read),
    database,
    jwt: jwtConfig(read, developmentSecrets),
    internalApiKey: optionalSecret(read, 'INTERNAL_API_KEY'),
    corsOrigin: cors === undefined ? false : cors === '*' ? true : cors.split(',').map((o) => o.trim()),
    throttle: throttleConfig(read),
    streamingSessionTtlSeconds: read.int('STREAMING_SESSION_TTL_SECONDS', 3600, 1, 30 * 86_400),
    meteringTrust: read.oneOf('METERING_TRUST', METERING_TRUSTS, 'service'),
    csvExports: {
      poolSize: read.int('EXPORT_POOL_SIZE', 4, 1, 100),
      stallTimeoutMs: read.int('EXPORT_STALL_TIMEOUT_MS', 10_000, 100, 600_000),
    },
    heavyReads: heavyReadsConfig(read),
    pricing: {
      defaultPricePer1kTokens: decimalPrice(read, 'DEFAULT_PRICE_PER_1K_TOKENS', '1'),
      // Production refuses what it cannot price (422 PRICING_UNKNOWN_MODEL) rather than billing a default.
      strict: read.bool('PRICING_STRICT', nodeEnv === 'production'),
      cacheTtlMs: read.int('PRICING_CACHE_TTL_MS', 5000, 0, 3_600_000),
      catalog: catalogConfig(read),
    },
    credits: creditsConfig(read),
    logLevel: read.oneOf('LOG_LEVEL', LOG_LEVELS, nodeEnv === 'test' ? 'warn' : 'info'),
    logFormat: read.oneOf('LOG_FORMAT', LOG_FORMATS, nodeEnv === 'development' ? 'pretty' : 'json'),
    swaggerEnabled: read.bool('SWAGGER_ENABLED', nodeEnv !== 'production'),
    bodyLimit: bodyLimit(read),
    batchBodyLimit: bodyLimit(read, 'BATCH_BODY_LIMIT', '2mb'),
    trustProxy: trustProxy(read),
    shutdownGraceMs: read.int('SHUTDOWN_GRACE_MS', 5000, 0, 600_000),
    jobsEnabled: read.bool('JOBS_ENABLED', true),
    eventRetentionDays: read.int('EVENT_RETENTION_DAYS', 90, 1, 36_500),
    maxApiKeysPerUser: read.int('MAX_API_KEYS_PER_USER', 100, 1, 100_000),
    serviceKeyMaxDays: read.int('SERVICE_KEY_MAX_DAYS', 365, 1, 3650),
    metricsToken: metricsToken(read),
    redisUrl: redisUrl(read),
    webhooks: webhooksConfig(read, developmentSecrets, nodeEnv),
    stripeWebhookSecret: stripeWebhookSecret(read),
    selling: sellingConfig(read),
    finance: financeConfig(read),
    corrections: correctionsConfig(read),
    gateway: gatewayConfig(read),
    mail: mailConfig(read),
    version: options.version ?? '0.0.0',
  };
  read.throwIfProblems();
  return config;
}
