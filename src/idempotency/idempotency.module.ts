import { Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';

import { IdempotencyKey } from './entities/idempotency-key.entity.js';
import { IdempotencyRepository } from './idempotency.repository.js';
import { IdempotencyStore } from './idempotency.service.js';
import { KeyedAnswers } from './statement-key.js';

/**
 * Idempotency keys for POST routes. `IdempotentPost` binds the interceptor to each POST handler, so
 * Nest builds it in the controller's module: global, for its dependencies to resolve there.
 */
@Global()
@Module({
  imports: [TypeOrmModule.forFeature([IdempotencyKey])],
  providers: [IdempotencyRepository, IdempotencyStore, KeyedAnswers],
  exports: [IdempotencyRepository, IdempotencyStore, KeyedAnswers],
})
export class IdempotencyModule {}
