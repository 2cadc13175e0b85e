import { readFileSync } from 'node:fs';

import { type DynamicModule, Global, Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';

import { type AppConfig, buildAppConfig, type BuildAppConfigOptions } from './app-config.js';

/** Injection token for the typed, validated configuration. */
export const APP_CONFIG = Symbol('APP_CONFIG');
const VALIDATED_KEY = '__appConfig';

function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8'));
    return String(pkg.version);
  } catch {
    try {
      const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
      return String(pkg.version);
    } catch {
      return '0.0.0';
    }
  }
}

/**
 * Wraps @nestjs/config: the environment is validated at boot (a bad value stops start-up naming the
 * variable) and exposed as one typed `AppConfig` object. `overrides` lets tests run an app with a
 * different environment without touching `process.env`; `embeddedDatabaseUrl` is the embedded
 * PostgreSQL that main.ts started (never an environment variable: setting one must not make a real
 * database count as the embedded one, which would allow the development secrets).
 */
@Global()
@Module({})
export class AppConfigModule {
  static forRoot(
    overrides: Record<string, string | undefined> = {},
    options: Pick<BuildAppConfigOptions, 'embeddedDatabaseUrl' | 'embeddedMigrationUrl'> = {},
  ): DynamicModule {
    const version = packageVersion();
    return {
      module: AppConfigModule,
      imports: [
        ConfigModule.forRoot({
          ignoreEnvFile: true,
          cache: true,
          // Only the typed config comes back: @nestjs/config copies the string values it gets back into
          // process.env, which would hand one app's overrides to every app created after it (tests).
          validate: (env) => ({ [VALIDATED_KEY]: buildAppConfig({ ...env, ...overrides }, { ...options, version }) }),
        }),
      ],
      providers: [
        {
          provide: APP_CONFIG,
          inject: [ConfigService],
          useFactory: (config: ConfigService): AppConfig => config.getOrThrow<AppConfig>(VALIDATED_KEY),
        },
      ],
      exports: [APP_CONFIG],
    };
  }
}
