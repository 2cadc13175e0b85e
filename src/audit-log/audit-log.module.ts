import { Module } from '@nestjs/common';

import { AuditModule } from '../audit/audit.module.js';
import { UsageModule } from '../usage/usage.module.js';
import { AuditLogController } from './audit-log.controller.js';
import { AuditLogService } from './audit-log.service.js';

/**
 * The audit log's route (GET /api/audit), above the audit and usage modules whose entries it reads.
 */
@Module({
  imports: [AuditModule, UsageModule],
  controllers: [AuditLogController],
  providers: [AuditLogService],
})
export class AuditLogModule {}
