import { type DynamicModule, Module } from '@nestjs/common';

import { type Handed, handedRoutes } from '../common/handed-routes.js';
import { AuditLogController } from './audit-log.controller.js';
import { AUDIT_LOG, type AuditLog } from './audit-log.js';

/**
 * The audit log's route (GET /api/audit). Its reader sits above usage, which imports audit, so the
 * composition root hands it in (`AuditRoutesModule.forRoot({ imports: [AuditLogModule], use:
 * AuditLogService })`) and this folder imports none of it.
 */
@Module({})
export class AuditRoutesModule {
  static forRoot(auditLog: Handed<AuditLog>): DynamicModule {
    return handedRoutes(AuditRoutesModule, [AuditLogController], AUDIT_LOG, auditLog);
  }
}
