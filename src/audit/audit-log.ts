import type { Page } from '../common/http/pagination.js';
import type { AuditEntryDto, AuditQueryDto } from './dto/audit.dto.js';

/**
 * What GET /api/audit reads: the log's entries merged with the usage records that are entries
 * (docs/audit.md "Metering is its own audit trail"). Usage sits above audit, so the reader sits above
 * both (`AuditLogService`, src/audit-log/) and the composition root hands it to the route
 * (`AuditRoutesModule.forRoot()`).
 */
export interface AuditLog {
  list(query: AuditQueryDto, limit: number): Promise<Page<AuditEntryDto>>;
}
export const AUDIT_LOG = Symbol('AUDIT_LOG');
