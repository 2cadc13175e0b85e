import { Module } from '@nestjs/common';

import { ApiKeysModule } from '../api-keys/api-keys.module.js';
import { AuditModule } from '../audit/audit.module.js';
import { PortalStrategy } from './portal.strategy.js';
import { PortalErasureRepository } from './portal-erasure.repository.js';
import { PortalSessionsController } from './portal-sessions.controller.js';
import { PortalSessionsJob } from './portal-sessions.job.js';
import { PortalSessionsRepository } from './portal-sessions.repository.js';
import { PortalSessionsService } from './portal-sessions.service.js';

/**
 * Portal sessions (`/api/portal/sessions`) and the `portal` passport strategy behind the global
 * AuthenticationGuard. The page itself is static (portal-static.ts). What a portal token reaches is
 * an option of the one access rule: each route's `@Auth(…, { portal })` (src/auth/account-access.ts).
 */
@Module({
  imports: [ApiKeysModule, AuditModule],
  controllers: [PortalSessionsController],
  providers: [
    PortalErasureRepository,
    PortalSessionsRepository,
    PortalSessionsService,
    PortalStrategy,
    PortalSessionsJob,
  ],
  exports: [PortalErasureRepository],
})
export class PortalModule {}
