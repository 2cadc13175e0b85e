import { ApiProperty, ApiPropertyOptional, PickType } from '@nestjs/swagger';
import { IsIn, IsString, MaxLength } from 'class-validator';

import { PageQueryDto } from '../../common/http/pagination.js';
import { ApiInteger } from '../../common/validation/integers.js';
import { IsOptional } from '../../common/validation/optional.js';
import { REVIEW_STATUSES, UsageRecordResponseDto } from './record-usage.dto.js';

export const REVIEW_ACTIONS = ['write_off', 'collect'] as const;

export class ReviewQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ enum: REVIEW_STATUSES, default: 'open', example: 'open' })
  @IsOptional()
  @IsIn(REVIEW_STATUSES)
  status?: (typeof REVIEW_STATUSES)[number];
}

export class ResolveRecordDto {
  @ApiProperty({
    enum: REVIEW_ACTIONS,
    example: 'collect',
    description: 'write_off: forgive the shortfall; collect: take it from the balance now (what it lacks becomes debt)',
  })
  @IsIn(REVIEW_ACTIONS)
  action: (typeof REVIEW_ACTIONS)[number];

  @ApiPropertyOptional({ example: 'Customer confirmed the long answer', maxLength: 500 })
  @IsOptional()
  @IsString()
  @MaxLength(500)
  note?: string;
}

/** A record with a shortfall: the record's own fields as a record answers them, and its review. */
export class ReviewItemDto extends PickType(UsageRecordResponseDto, [
  'userId',
  'timestamp',
  'service',
  'operation',
  'credits',
  'usageSource',
  'termination',
] as const) {
  @ApiProperty({ example: '6a1f2b3c-4d5e-4f60-8a9b-0c1d2e3f4a5b', format: 'uuid' })
  usageRecordId: string;

  @ApiInteger({ example: 4, description: 'What the settlement could not collect' })
  shortfall: number;

  @ApiProperty({
    enum: REVIEW_STATUSES,
    example: 'open',
    description: 'open while it waits for an admin, resolved once written off or collected (never null here)',
  })
  reviewStatus: (typeof REVIEW_STATUSES)[number];

  @ApiProperty({ enum: [...REVIEW_ACTIONS, null], nullable: true, example: null })
  resolution: (typeof REVIEW_ACTIONS)[number] | null;

  @ApiProperty({ type: String, nullable: true, example: null })
  resolvedBy: string | null;

  @ApiProperty({ type: String, nullable: true, example: null })
  resolvedAt: string | null;

  @ApiProperty({ type: String, nullable: true, example: null })
  note: string | null;
}

/** An account with debt: a user's `{userId, debt}`, an organisation's `{userId: null, orgId, debt}`. */
export class DebtorDto {
  @ApiProperty({
    type: String,
    nullable: true,
    example: 'carol',
    description: "The user; null for an organisation's debt",
  })
  userId: string | null;

  @ApiPropertyOptional({ example: 'acme', description: "The organisation, for an organisation's debt only" })
  orgId?: string;

  @ApiInteger({ example: 120 })
  debt: number;
}

export class ReviewListResponseDto {
  @ApiProperty({ type: [ReviewItemDto], description: 'Usage records with a shortfall, newest first' })
  items: ReviewItemDto[];

  @ApiProperty({ type: String, nullable: true, example: null })
  nextCursor: string | null;

  @ApiProperty({
    type: [DebtorDto],
    description:
      'Accounts (users and organisations) with debt, largest first (status=open, first page only; at most 500)',
  })
  debts: DebtorDto[];
}
