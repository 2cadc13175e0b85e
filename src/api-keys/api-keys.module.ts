import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';

import { AccountsModule } from '../accounts/accounts.module.js';
import { NAMED_KEYS, PayerService } from '../accounts/payer.service.js';
import { AuditModule } from '../audit/audit.module.js';
import { EngineModule } from '../engine/engine.module.js';
import { ApiKeyStrategy } from './api-key.strategy.js';
import { ApiKeysController } from './api-keys.controller.js';
import { ApiKeysRepository } from './api-keys.repository.js';
import { ApiKeysService } from './api-keys.service.js';
import { ApiKeysErasureRepository } from './api-keys-erasure.repository.js';
import { CoalescedKeyLookups } from './coalesced-key-lookups.js';
import { ApiKey } from './entities/api-key.entity.js';
import { InternalOrAdminGuard } from './internal-or-admin.guard.js';
import { RecentKeys } from './recent-keys.js';

/**
 * API keys: management routes, and the 'api-key' passport strategy behind the global guard. The
 * accounts module's PayerService (who pays for a metering write) is provided here, where the keys it
 * reads are: a module below this one cannot import it.
 */
@Module({
  imports: [TypeOrmModule.forFeature([ApiKey]), AccountsModule, AuditModule, EngineModule],
  controllers: [ApiKeysController],
  providers: [
    ApiKeysErasureRepository,
    ApiKeysService,
    ApiKeysRepository,
    CoalescedKeyLookups,
    ApiKeyStrategy,
    InternalOrAdminGuard,
    PayerService,
    RecentKeys,
    { provide: NAMED_KEYS, useExisting: ApiKeysRepository },
  ],
  exports: [ApiKeysErasureRepository, ApiKeysService, PayerService, RecentKeys],
})
export class ApiKeysModule {}
