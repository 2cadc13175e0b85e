import { Inject, Injectable } from '@nestjs/common';

import { AuditService } from '../audit/audit.service.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { AuditEntryDto, AuditQueryDto } from '../audit/dto/audit.dto.js';
import type { Page } from '../common/http/pagination.js';
import { UsageAuditRepository } from '../usage/usage-audit.repository.js';

/**
 * The audit log as GET /api/audit reads it: the audit module's entries and the usage records that
 * are entries themselves (docs/audit.md "Metering is its own audit trail"), merged newest first in
 * the audit module's one statement. It sits above both modules, so each is a call down; the
 * composition root hands it to the audit module's route as its `AUDIT_LOG`.
 */
@Injectable()
export class AuditLogService implements AuditLog {
  constructor(
    @Inject(AuditService) private readonly audit: AuditService,
    @Inject(UsageAuditRepository) private readonly usageEntries: UsageAuditRepository,
  ) {}

  list(query: AuditQueryDto, limit: number): Promise<Page<AuditEntryDto>> {
    const filter = this.audit.filterOf(query);
    const records = this.usageEntries.recordEntries(filter);
    return this.audit.list(filter, limit, records === null ? [] : [records]);
  }
}
