import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsString, MaxLength } from 'class-validator';

import { ROLES } from '../../auth/roles.js';
import { PageQueryDto, PageResponseDto } from '../../common/http/pagination.js';
import { IsInstant } from '../../common/validation/dates.js';
import { IsUserId } from '../../common/validation/ids.js';
import { IsOptional } from '../../common/validation/optional.js';
import { AUDIT_ACTION_NAMES, AUDIT_TARGET_TYPES } from '../audit-actions.js';

export class AuditQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ example: 'ops-admin', maxLength: 50, description: 'The acting user id' })
  @IsOptional()
  @IsUserId()
  actor?: string;

  @ApiPropertyOptional({ enum: AUDIT_ACTION_NAMES, example: 'credits.allocate' })
  @IsOptional()
  @IsIn(AUDIT_ACTION_NAMES)
  action?: string;

  @ApiPropertyOptional({ enum: AUDIT_TARGET_TYPES, example: 'allocation' })
  @IsOptional()
  @IsIn(AUDIT_TARGET_TYPES)
  targetType?: string;

  @ApiPropertyOptional({ example: '3f6a9c2e-1b4d-4e8f-a7c5-9d0e2f4b6a81', maxLength: 200 })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  targetId?: string;

  @ApiPropertyOptional({
    example: '2026-11-01',
    description: 'Inclusive; YYYY-MM-DD (00:00 UTC) or an ISO-8601 date-time',
  })
  @IsOptional()
  @IsInstant()
  from?: string;

  @ApiPropertyOptional({
    example: '2026-11-30',
    description: 'Inclusive; a date-only value includes that whole UTC day',
  })
  @IsOptional()
  @IsInstant()
  to?: string;
}

export class AuditActorDto {
  @ApiProperty({ example: 'ops-admin' })
  userId: string;

  @ApiPropertyOptional({
    enum: [...ROLES, 'system'],
    example: 'admin',
    description:
      'The role at the time of the change (`system` for a provider webhook); absent on `usage.record` entries, which are the usage records themselves',
  })
  role?: string;

  @ApiProperty({
    enum: ['jwt', 'api-key', 'webhook'],
    example: 'jwt',
    description: '`webhook`: a change a payment provider webhook made (a Stripe purchase or refund)',
  })
  via: 'jwt' | 'api-key' | 'webhook';

  @ApiPropertyOptional({
    format: 'uuid',
    example: '9b2f4c1e-7a3d-4e5f-8c6b-1d2e3f4a5b6c',
    description: 'When via is api-key',
  })
  apiKeyId?: string;
}

export class AuditTargetDto {
  @ApiProperty({ enum: AUDIT_TARGET_TYPES, example: 'allocation' })
  type: string;

  @ApiProperty({ example: '3f6a9c2e-1b4d-4e8f-a7c5-9d0e2f4b6a81' })
  id: string;
}

export class AuditEntryDto {
  @ApiProperty({ format: 'uuid', example: '6c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f' })
  id: string;

  @ApiProperty({ example: '2026-11-21T12:00:00.000Z' })
  at: string;

  @ApiProperty({ type: AuditActorDto })
  actor: AuditActorDto;

  @ApiProperty({ enum: AUDIT_ACTION_NAMES, example: 'credits.allocate' })
  action: string;

  @ApiProperty({ type: AuditTargetDto })
  target: AuditTargetDto;

  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    nullable: true,
    example: null,
    description: 'The object before the change (null when it was created); secrets never appear',
  })
  before: Record<string, unknown> | null;

  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    nullable: true,
    example: { id: '3f6a9c2e-1b4d-4e8f-a7c5-9d0e2f4b6a81', userId: 'alice', totalCredits: 500 },
    description: 'The object after the change (null when it was deleted); secrets never appear',
  })
  after: Record<string, unknown> | null;

  @ApiProperty({
    type: String,
    nullable: true,
    example: 'b7e0c1d2-3f4a-4b5c-9d6e-7f8a9b0c1d2e',
    description: 'The X-Request-Id of the change',
  })
  requestId: string | null;
}

export class AuditListResponseDto extends PageResponseDto(AuditEntryDto) {}
