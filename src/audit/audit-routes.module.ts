import { type DynamicModule, Module, type Type } from '@nestjs/common';

import { AuditLogController } from './audit-log.controller.js';
import { AUDIT_LOG, type AuditLog } from './audit-log.js';

/**
 * The audit log's route (GET /api/audit). Its reader sits above usage, which imports audit, so the
 * composition root hands it in (`AuditRoutesModule.forRoot({ imports: [AuditLogModule], auditLog:
 * AuditLogService })`) and this folder imports none of it.
 */
@Module({})
export class AuditRoutesModule {
  static forRoot(reader: { imports: Type[]; auditLog: Type<AuditLog> }): DynamicModule {
    return {
      module: AuditRoutesModule,
      imports: reader.imports,
      controllers: [AuditLogController],
      providers: [{ provide: AUDIT_LOG, useExisting: reader.auditLog }],
    };
  }
}
