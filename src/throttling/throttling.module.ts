import { Global, Module } from '@nestjs/common';
import { seconds, ThrottlerModule } from '@nestjs/throttler';

import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { AnonymousRequests } from './anonymous-requests.js';
import { CredentialAttempts } from './credential-attempts.js';
import { SharedThrottlerStorage } from './shared-throttler-storage.js';

@Module({
  providers: [SharedThrottlerStorage, CredentialAttempts, AnonymousRequests],
  exports: [SharedThrottlerStorage, CredentialAttempts, AnonymousRequests],
})
class ThrottlerStorageModule {}

/**
 * @nestjs/throttler (global) configured with THROTTLE_* and its counters in Redis when REDIS_URL
 * is set (see SharedThrottlerStorage for what happens when Redis is down), and the per-address limit
 * on guessed secrets (CredentialAttempts) on the same counters: global, as the guards and the metrics
 * route of several modules check it.
 */
@Global()
@Module({
  imports: [
    ThrottlerStorageModule,
    ThrottlerModule.forRootAsync({
      imports: [ThrottlerStorageModule],
      inject: [APP_CONFIG, SharedThrottlerStorage],
      useFactory: (config: AppConfig, storage: SharedThrottlerStorage) => ({
        throttlers: [{ name: 'default', ttl: seconds(config.throttle.ttlSeconds), limit: config.throttle.limit }],
        storage,
      }),
    }),
  ],
  exports: [ThrottlerStorageModule],
})
export class ThrottlingModule {}
