import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsString, MaxLength } from 'class-validator';

import { PageQueryDto } from '../../common/http/pagination.js';
import { ApiInteger } from '../../common/validation/integers.js';
import { IsOptional } from '../../common/validation/optional.js';
import { type Termination, TERMINATIONS, USAGE_SOURCES, type UsageSource } from '../../pricing/provider-usage.js';

export const REVIEW_STATUSES = ['open', 'resolved'] as const;
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

export class ReviewItemDto {
  @ApiProperty({ example: '6a1f2b3c-4d5e-4f60-8a9b-0c1d2e3f4a5b', format: 'uuid' })
  usageRecordId: string;

  @ApiProperty({ example: 'bob' })
  userId: string;

  @ApiProperty({ example: '2026-11-22T12:00:00.000Z' })
  timestamp: string;

  @ApiProperty({ example: 'chat-streaming' })
  service: string;

  @ApiProperty({ example: 'anthropic.claude-3-haiku-20240307-v1:0' })
  operation: string;

  @ApiInteger({ example: 8, description: 'Credits the record billed' })
  credits: number;

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

  @ApiProperty({
    enum: USAGE_SOURCES,
    example: 'provider',
    description: 'Where the record’s counts came from (see listUsageRecords)',
  })
  usageSource: UsageSource;

  @ApiProperty({
    enum: [...TERMINATIONS, null],
    nullable: true,
    example: 'max_tokens',
    description: 'How the session’s stream ended, as reported (null: not reported)',
  })
  termination: Termination | null;
}

export class DebtorDto {
  @ApiProperty({ example: 'carol' })
  userId: string;

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
    description: 'Users with debt, largest first (status=open, first page only; at most 500)',
  })
  debts: DebtorDto[];
}
