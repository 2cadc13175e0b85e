import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';

import { AuditModule } from '../audit/audit.module.js';
import { CreditsModule } from '../credits/credits.module.js';
import { ApiKeyStrategy } from './api-key.strategy.js';
import { ApiKeysController } from './api-keys.controller.js';
import { ApiKeysRepository } from './api-keys.repository.js';
import { ApiKeysService } from './api-keys.service.js';
import { ApiKey } from './entities/api-key.entity.js';
import { InternalOrAdminGuard } from './internal-or-admin.guard.js';
import { MeteringService } from './metering.service.js';

/** API keys: management routes, and the 'api-key' passport strategy behind the global guard. */
@Module({
  imports: [TypeOrmModule.forFeature([ApiKey]), AuditModule, CreditsModule],
  controllers: [ApiKeysController],
  providers: [ApiKeysService, ApiKeysRepository, ApiKeyStrategy, InternalOrAdminGuard, MeteringService],
  exports: [ApiKeysService, MeteringService],
})
export class ApiKeysModule {}
