import { Module } from '@nestjs/common';

import { ApiKeyStrategy } from './api-key.strategy.js';
import { ApiKeysController } from './api-keys.controller.js';
import { ApiKeysService } from './api-keys.service.js';
import { InternalOrAdminGuard } from './internal-or-admin.guard.js';

/** API keys: management routes, and the 'api-key' passport strategy behind the global guard. */
@Module({
  controllers: [ApiKeysController],
  providers: [ApiKeysService, ApiKeyStrategy, InternalOrAdminGuard],
  exports: [ApiKeysService],
})
export class ApiKeysModule {}
