import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';

import { IdempotencyKey } from './entities/idempotency-key.entity.js';
import { IdempotencyInterceptor } from './idempotency.interceptor.js';
import { IdempotencyRepository } from './idempotency.repository.js';
import { IdempotencyStore } from './idempotency.service.js';

/** Idempotency keys for POST routes; AppModule registers the interceptor globally (APP_INTERCEPTOR). */
@Module({
  imports: [TypeOrmModule.forFeature([IdempotencyKey])],
  providers: [IdempotencyRepository, IdempotencyStore, IdempotencyInterceptor],
  // The interceptor is instantiated by AppModule (APP_INTERCEPTOR): its dependencies are exported.
  exports: [IdempotencyRepository, IdempotencyStore, IdempotencyInterceptor],
})
export class IdempotencyModule {}
