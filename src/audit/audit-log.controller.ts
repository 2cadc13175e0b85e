import { Controller, Get, Inject, Query } from '@nestjs/common';
import { ApiBadRequestResponse, ApiTags } from '@nestjs/swagger';

import { StaffRead } from '../auth/staff-read.decorator.js';
import { ErrorResponseDto } from '../common/errors/error-response.dto.js';
import { DEFAULT_LIMIT } from '../common/http/pagination.js';
import { AUDIT_LOG, type AuditLog } from './audit-log.js';
import { AuditListResponseDto, AuditQueryDto } from './dto/audit.dto.js';

/** The audit log (GET /api/audit), read through the reader the composition root hands in (`AUDIT_LOG`). */
@ApiTags('audit')
@Controller('api/audit')
export class AuditLogController {
  constructor(@Inject(AUDIT_LOG) private readonly auditLog: AuditLog) {}

  @Get()
  @StaffRead(
    'admin',
    AuditListResponseDto,
    'listAuditEntries',
    'Changes made by supervisors, admins and service keys, newest first',
    'One entry per change, written in the change’s own transaction: who (`actor`), what (`action`, `target`), ' +
      'the object `before` and `after` (secrets never appear) and the request’s `X-Request-Id`. `from`/`to` are ' +
      'inclusive bounds on `at`. The log is append-only: the database refuses to update or delete an entry.',
  )
  @ApiBadRequestResponse({ description: 'Invalid query, dates or cursor', type: ErrorResponseDto })
  list(@Query() query: AuditQueryDto): Promise<AuditListResponseDto> {
    return this.auditLog.list(query, query.limit ?? DEFAULT_LIMIT);
  }
}
