import { Module } from '@nestjs/common';

import { AuditModule } from '../audit/audit.module.js';
import { UsageModule } from '../usage/usage.module.js';
import { AuditLogService } from './audit-log.service.js';

/**
 * The audit log's reader, above the audit and usage modules whose entries it reads; the composition
 * root hands it to the audit module's route (`AUDIT_LOG`, `AuditRoutesModule.forRoot()`).
 */
@Module({
  imports: [AuditModule, UsageModule],
  providers: [AuditLogService],
  exports: [AuditLogService],
})
export class AuditLogModule {}
