import { describe, expect, it } from 'vitest';

import {
  buildAppConfig,
  ConfigValidationError,
  DEVELOPMENT_JWT_SECRET,
  DEVELOPMENT_WEBHOOK_SECRET_KEY,
  mayUseDevelopmentSecrets,
} from './app-config.js';

/**
 * Fail closed: the fixed development secrets (printed in this repository) serve only the embedded
 * database with NODE_ENV unset or development; everywhere else a missing or short secret, or an
 * unknown NODE_ENV, stops start-up naming the variable.
 */
const JWT_ACCESS_SECRET = 'jwt-secret-that-is-long-enough-0123456789';
const WEBHOOK_SECRET_KEY = 'webhook-key-that-is-long-enough-0123456789';
const SECRETS = { JWT_ACCESS_SECRET, WEBHOOK_SECRET_KEY };

const JWT_REQUIRED =
  'JWT_ACCESS_SECRET is required (at least 32 characters): the development value serves only the embedded database with NODE_ENV unset or development';
const WEBHOOK_REQUIRED =
  'WEBHOOK_SECRET_KEY is required (at least 32 characters): the development value serves only the embedded database with NODE_ENV unset or development';

function problemsOf(env: Record<string, string | undefined>): string[] {
  try {
    buildAppConfig(env);
  } catch (error) {
    if (error instanceof ConfigValidationError) return error.problems;
    throw error;
  }
  throw new Error('expected the configuration to be rejected');
}

const DATABASES: Array<[string, Record<string, string>]> = [
  ['the embedded database', {}],
  ['DATABASE_URL', { DATABASE_URL: 'postgres://svc@db.internal:5432/accounting' }],
  ['DB_HOST', { DB_HOST: 'db.internal' }],
];
const NODE_ENVS: Array<string | undefined> = [undefined, 'development', 'test', 'production'];
const CASES = DATABASES.flatMap(([where, database]) =>
  NODE_ENVS.map((nodeEnv) => ({ where, database, nodeEnv, env: { ...database, NODE_ENV: nodeEnv } })),
);
const developmentCase = (c: (typeof CASES)[number]) =>
  c.where === 'the embedded database' && (c.nodeEnv === undefined || c.nodeEnv === 'development');

describe('the development secrets', () => {
  it.each(CASES.filter(developmentCase).map((c) => [c.nodeEnv ?? 'unset', c.where, c.env] as const))(
    'NODE_ENV %s on %s: used when the variables are unset, with a warning flag',
    (_nodeEnv, _where, env) => {
      const config = buildAppConfig(env);
      expect(config.jwt).toMatchObject({ secret: DEVELOPMENT_JWT_SECRET, usingDevelopmentSecret: true });
      expect(config.webhooks).toMatchObject({
        secretKey: DEVELOPMENT_WEBHOOK_SECRET_KEY,
        usingDevelopmentKey: true,
      });
    },
  );

  it.each(CASES.filter((c) => !developmentCase(c)).map((c) => [c.nodeEnv ?? 'unset', c.where, c.env] as const))(
    'NODE_ENV %s on %s: refused, both variables named',
    (_nodeEnv, _where, env) => {
      expect(problemsOf(env)).toEqual([JWT_REQUIRED, WEBHOOK_REQUIRED]);
      // Blank counts as unset.
      expect(problemsOf({ ...env, JWT_ACCESS_SECRET: '  ', WEBHOOK_SECRET_KEY: '' })).toEqual([
        JWT_REQUIRED,
        WEBHOOK_REQUIRED,
      ]);
    },
  );

  it('the embedded database in development is decided by the database settings, never by a URL alone', () => {
    expect(mayUseDevelopmentSecrets('development', { embedded: true })).toBe(true);
    for (const nodeEnv of ['test', 'production'] as const)
      expect(mayUseDevelopmentSecrets(nodeEnv, { embedded: true })).toBe(false);
    expect(mayUseDevelopmentSecrets('development', { embedded: false })).toBe(false);
    // main.ts hands the embedded server's URL over as an option: the development secrets still apply.
    const url = 'postgres://postgres:embedded@127.0.0.1:45678/accounting';
    expect(buildAppConfig({}, { embeddedDatabaseUrl: url }).jwt.usingDevelopmentSecret).toBe(true);
  });

  it('are refused as configured values wherever they are not allowed (they are public)', () => {
    const env = { DATABASE_URL: 'postgres://db/accounting', NODE_ENV: 'production' };
    expect(problemsOf({ ...env, JWT_ACCESS_SECRET: DEVELOPMENT_JWT_SECRET, WEBHOOK_SECRET_KEY })).toEqual([
      'JWT_ACCESS_SECRET must not be the development value printed in this repository',
    ]);
    expect(problemsOf({ ...env, JWT_ACCESS_SECRET, WEBHOOK_SECRET_KEY: DEVELOPMENT_WEBHOOK_SECRET_KEY })).toEqual([
      'WEBHOOK_SECRET_KEY must not be the development value printed in this repository',
    ]);
  });

  it('are themselves long enough to be sane keys', () => {
    expect(DEVELOPMENT_JWT_SECRET.length).toBeGreaterThanOrEqual(32);
    expect(DEVELOPMENT_WEBHOOK_SECRET_KEY.length).toBeGreaterThanOrEqual(32);
  });
});

describe('configured secrets', () => {
  it.each(CASES.map((c) => [c.nodeEnv ?? 'unset', c.where, c.env] as const))(
    'NODE_ENV %s on %s: 32 characters are accepted, 31 refused (each variable named)',
    (_nodeEnv, _where, env) => {
      const config = buildAppConfig({ ...env, ...SECRETS });
      expect(config.jwt).toMatchObject({ secret: JWT_ACCESS_SECRET, usingDevelopmentSecret: false });
      expect(config.webhooks).toMatchObject({ secretKey: WEBHOOK_SECRET_KEY, usingDevelopmentKey: false });
      expect(
        buildAppConfig({ ...env, JWT_ACCESS_SECRET: 'j'.repeat(32), WEBHOOK_SECRET_KEY: 'w'.repeat(32) }),
      ).toBeTruthy();
      expect(problemsOf({ ...env, JWT_ACCESS_SECRET: 'j'.repeat(31), WEBHOOK_SECRET_KEY: 'w'.repeat(31) })).toEqual([
        'JWT_ACCESS_SECRET must be at least 32 characters',
        'WEBHOOK_SECRET_KEY must be at least 32 characters',
      ]);
    },
  );

  it.each([
    ['INTERNAL_API_KEY', 'letmein'],
    ['INTERNAL_API_KEY', 'i'.repeat(31)],
    ['METRICS_TOKEN', 'm'.repeat(31)],
  ])('%s=%s is refused even when everything else is production-ready', (name, value) => {
    const env = { NODE_ENV: 'production', DATABASE_URL: 'postgres://db/accounting', ...SECRETS };
    expect(problemsOf({ ...env, [name]: value })).toEqual([
      name === 'METRICS_TOKEN'
        ? 'METRICS_TOKEN must be at least 32 characters without spaces'
        : 'INTERNAL_API_KEY must be at least 32 characters when set',
    ]);
    // And on the embedded database in development too: the rule does not depend on where it runs.
    expect(problemsOf({ [name]: value })).toHaveLength(1);
  });

  it('INTERNAL_API_KEY and METRICS_TOKEN stay optional; 32 characters are enough', () => {
    const env = { NODE_ENV: 'production', DATABASE_URL: 'postgres://db/accounting', ...SECRETS };
    expect(buildAppConfig(env)).toMatchObject({ internalApiKey: null, metricsToken: null });
    expect(buildAppConfig({ ...env, INTERNAL_API_KEY: 'i'.repeat(32), METRICS_TOKEN: 'm'.repeat(32) })).toMatchObject({
      internalApiKey: 'i'.repeat(32),
      metricsToken: 'm'.repeat(32),
    });
  });
});

describe('NODE_ENV', () => {
  it.each(['development', 'test', 'production'])('%s is accepted (with real secrets)', (nodeEnv) => {
    expect(buildAppConfig({ NODE_ENV: nodeEnv, ...SECRETS }).nodeEnv).toBe(nodeEnv);
  });

  it('unset or blank means development', () => {
    expect(buildAppConfig({}).nodeEnv).toBe('development');
    expect(buildAppConfig({ NODE_ENV: ' ' }).nodeEnv).toBe('development');
  });

  it.each(['prod', 'Production', 'PRODUCTION', 'staging', 'dev', 'Development', 'testing', 'local'])(
    '%s stops start-up, even with every secret set',
    (nodeEnv) => {
      expect(problemsOf({ NODE_ENV: nodeEnv, ...SECRETS })).toEqual([
        `NODE_ENV must be one of development, test, production (got "${nodeEnv}")`,
      ]);
    },
  );

  it('an unknown NODE_ENV never gets the development secrets: they are judged as in production', () => {
    expect(problemsOf({ NODE_ENV: 'staging' })).toEqual([
      'NODE_ENV must be one of development, test, production (got "staging")',
      JWT_REQUIRED,
      WEBHOOK_REQUIRED,
    ]);
  });
});
