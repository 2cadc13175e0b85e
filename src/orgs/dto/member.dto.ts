import { ApiProperty, ApiPropertyOptional, getSchemaPath } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import { IsBoolean, IsIn, IsInt, Max, Min, ValidateNested } from 'class-validator';

import { ORG_ROLES, type OrgRole, SPEND_LIMIT_PERIODS, type SpendLimitPeriod } from '../../accounts/org-roles.js';
import { PageQueryDto, PageResponseDto } from '../../common/http/pagination.js';
import { MAX_CREDITS } from '../../common/validation/amounts.js';
import { toBoolean } from '../../common/validation/booleans.js';
import { ApiInteger } from '../../common/validation/integers.js';
import { IsOptional, IsOptionalOrNull } from '../../common/validation/optional.js';

export class SpendLimitDto {
  @ApiInteger({ example: 500, minimum: 0, maximum: MAX_CREDITS })
  @IsInt()
  @Min(0)
  @Max(MAX_CREDITS)
  credits: number;

  @ApiProperty({ enum: SPEND_LIMIT_PERIODS, example: 'day', description: 'UTC day, ISO week (from Monday) or month' })
  @IsIn(SPEND_LIMIT_PERIODS)
  period: SpendLimitPeriod;
}

export class PutMemberDto {
  @ApiProperty({ enum: ORG_ROLES, example: 'member' })
  @IsIn(ORG_ROLES)
  role: OrgRole;

  // OpenAPI 3.0 has no nullable $ref: null is its own branch (as in UserOverviewDto).
  @ApiPropertyOptional({
    description: 'What the member may spend from the org per period; null removes the limit; absent keeps it',
    anyOf: [{ $ref: getSchemaPath(SpendLimitDto) }, { type: 'object', nullable: true, enum: [null] }],
  })
  @IsOptionalOrNull()
  @ValidateNested()
  @Type(() => SpendLimitDto)
  spendLimit?: SpendLimitDto | null;
}

export class MemberResponseDto {
  @ApiProperty({ example: 'acme' })
  orgId: string;

  @ApiProperty({ example: 'bob' })
  userId: string;

  @ApiProperty({ enum: ORG_ROLES, example: 'member' })
  role: OrgRole;

  @ApiProperty({ example: '2026-11-21T12:00:00.000Z' })
  joinedAt: string;

  @ApiProperty({ type: String, nullable: true, example: null, description: 'When the member was removed' })
  removedAt: string | null;

  @ApiProperty({
    description: 'Null: no limit of their own',
    anyOf: [{ $ref: getSchemaPath(SpendLimitDto) }, { type: 'object', nullable: true, enum: [null] }],
  })
  spendLimit: SpendLimitDto | null;

  @ApiInteger({
    nullable: true,
    example: 120,
    description:
      'Spent from the org in the limit’s current UTC period (held credits of open sessions included); null without a limit',
  })
  spentInPeriod: number | null;

  @ApiProperty({
    type: String,
    nullable: true,
    example: '2026-11-22T00:00:00.000Z',
    description: 'When the limit’s period ends and its spend counts from 0 again; null without a limit',
  })
  periodResetsAt: string | null;

  @ApiInteger({
    example: 380,
    description:
      'What the member could spend from the org now: the smaller of the pool’s spendable credits (balance and ' +
      'overdraft) and what their limit leaves; 0 once removed',
  })
  availableCredits: number;

  @ApiProperty({
    enum: ['pool', 'member'],
    example: 'member',
    description: 'Which of the two decides availableCredits',
  })
  binding: 'pool' | 'member';
}

export class RemovedMemberResponseDto extends MemberResponseDto {
  @ApiInteger({
    example: 0,
    description: 'Open org sessions of the member aborted at once (sessions=release); 0 with drain',
  })
  releasedSessions: number;
}

export class MemberListResponseDto extends PageResponseDto(MemberResponseDto) {}

export class ListMembersQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ example: false, default: false, description: 'Also list removed members' })
  @IsOptional()
  @Transform(toBoolean)
  @IsBoolean()
  includeRemoved?: boolean;
}

export const SESSION_POLICIES = ['drain', 'release'] as const;

export class RemoveMemberQueryDto {
  @ApiPropertyOptional({
    enum: SESSION_POLICIES,
    default: 'drain',
    description:
      'drain: the member’s open org sessions settle normally; release: each is aborted at once, nothing charged',
  })
  @IsOptional()
  @IsIn(SESSION_POLICIES)
  sessions?: (typeof SESSION_POLICIES)[number];
}
