import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';

import { AuditRepository } from './audit.repository.js';
import { AuditService } from './audit.service.js';
import { AuditEntry } from './entities/audit-entry.entity.js';

/**
 * The audit log: modules that change things on an operator's behalf import it and call
 * `AuditService.record(manager, change)` inside the transaction of the change. Its route, which also
 * reads the usage records that are entries, sits above usage in src/audit-log/.
 */
@Module({
  imports: [TypeOrmModule.forFeature([AuditEntry])],
  providers: [AuditRepository, AuditService],
  exports: [AuditService],
})
export class AuditModule {}
