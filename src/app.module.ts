import { type DynamicModule, Module, ValidationPipe } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_INTERCEPTOR, APP_PIPE } from '@nestjs/core';
import { ScheduleModule } from '@nestjs/schedule';
import { seconds, ThrottlerModule } from '@nestjs/throttler';

import { ApiKeysModule } from './api-keys/api-keys.module.js';
import { AccessGuard } from './auth/access.guard.js';
import { AuthModule } from './auth/auth.module.js';
import { AuthenticationGuard } from './auth/authentication.guard.js';
import { PrincipalThrottlerGuard } from './auth/principal-throttler.guard.js';
import { ClockModule } from './common/clock.js';
import { AllExceptionsFilter } from './common/errors/all-exceptions.filter.js';
import type { AppConfig } from './config/app-config.js';
import { APP_CONFIG, AppConfigModule } from './config/config.module.js';
import { CreditsModule } from './credits/credits.module.js';
import { DatabaseModule } from './database/database.module.js';
import { HealthModule } from './health/health.module.js';
import { IdempotencyInterceptor } from './idempotency/idempotency.interceptor.js';
import { IdempotencyModule } from './idempotency/idempotency.module.js';
import { PricingModule } from './pricing/pricing.module.js';
import { StreamingSessionsModule } from './streaming-sessions/streaming-sessions.module.js';
import { UsageModule } from './usage/usage.module.js';
import { AccountsModule } from './users/accounts.module.js';
import { UsersModule } from './users/users.module.js';

@Module({})
export class AppModule {
  /** `env` overrides process.env (tests run apps with their own settings side by side). */
  static forRoot(env: Record<string, string | undefined> = {}): DynamicModule {
    return {
      module: AppModule,
      imports: [
        AppConfigModule.forRoot(env),
        ClockModule,
        DatabaseModule,
        ThrottlerModule.forRootAsync({
          inject: [APP_CONFIG],
          useFactory: (config: AppConfig) => ({
            throttlers: [{ name: 'default', ttl: seconds(config.throttle.ttlSeconds), limit: config.throttle.limit }],
          }),
        }),
        ScheduleModule.forRoot(),
        AccountsModule,
        AuthModule,
        IdempotencyModule,
        HealthModule,
        UsersModule,
        PricingModule,
        CreditsModule,
        UsageModule,
        StreamingSessionsModule,
        ApiKeysModule,
      ],
      providers: [
        // Order matters: who is calling, then may they, then how often.
        { provide: APP_GUARD, useClass: AuthenticationGuard },
        { provide: APP_GUARD, useClass: AccessGuard },
        { provide: APP_GUARD, useClass: PrincipalThrottlerGuard },
        { provide: APP_FILTER, useClass: AllExceptionsFilter },
        // Idempotency-Key on POST: the effect and its stored response commit in one transaction.
        { provide: APP_INTERCEPTOR, useClass: IdempotencyInterceptor },
        {
          provide: APP_PIPE,
          useValue: new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true }),
        },
      ],
    };
  }
}
