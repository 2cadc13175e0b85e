import { ApiExtraModels, ApiProperty, ApiPropertyOptional, getSchemaPath } from '@nestjs/swagger';
import { IsIn, IsNotEmpty, IsString, Matches, MaxLength } from 'class-validator';

import { IsInstant } from '../../common/validation/dates.js';
import { ApiInteger } from '../../common/validation/integers.js';
import { IsOptional } from '../../common/validation/optional.js';
import type { ChangeAllowance, ChangeAnchor, ChangeTiming } from '../plan-change.js';

const TIMINGS: ChangeTiming[] = ['now', 'period_end'];
const ALLOWANCES: ChangeAllowance[] = ['difference', 'prorated', 'full'];
const ANCHORS: ChangeAnchor[] = ['keep', 'restart'];

export class PutSubscriptionDto {
  @ApiProperty({ example: 'pro', maxLength: 50 })
  @IsString()
  @IsNotEmpty()
  @Matches(/^[a-z0-9-]+$/, { message: 'planId may hold only lowercase letters, digits and -' })
  @MaxLength(50)
  planId: string;

  @ApiPropertyOptional({
    example: '2027-01-01T00:00:00.000Z',
    description:
      'Anchor of the periods (not in the past). Default: the anchor of the subscription this one replaces ' +
      '(or ended within its period in progress), so a change keeps the period; else now. Ignored when the ' +
      'plan does not change.',
  })
  @IsOptional()
  @IsInstant()
  startsAt?: string;

  @ApiPropertyOptional({
    enum: TIMINGS,
    default: 'now',
    description:
      'now: the change happens at once. period_end: nothing moves now; the change is scheduled for the end of ' +
      "the period in progress and applied then instead of the old plan's renewal (409 NO_PERIOD_IN_PROGRESS " +
      'without a live subscription whose period has started). Another PUT replaces a schedule.',
  })
  @IsOptional()
  @IsIn(TIMINGS)
  timing?: ChangeTiming;

  @ApiPropertyOptional({
    enum: ALLOWANCES,
    default: 'difference',
    description:
      "What a change now grants. difference: what the new plan's credits add to the plan credits granted in " +
      'the period (an upgrade the difference, a downgrade nothing). prorated: an upgrade grants ' +
      'ceil((new − old) × the fraction of the period left), never more than difference would. full (needs ' +
      "anchor restart): the new plan's full allocation, the old period's plan credits expiring at once after " +
      "the old plan's rollover cap carried some over.",
  })
  @IsOptional()
  @IsIn(ALLOWANCES)
  allowance?: ChangeAllowance;

  @ApiPropertyOptional({
    enum: ANCHORS,
    default: 'keep',
    description: 'keep: the period in progress goes on. restart: a new period starts with the change.',
  })
  @IsOptional()
  @IsIn(ANCHORS)
  anchor?: ChangeAnchor;
}

export class ScheduledChangeDto {
  @ApiProperty({ example: 'free' })
  planId: string;

  @ApiProperty({ example: '2026-12-22T12:00:00.000Z', description: 'The end of the period it was scheduled in' })
  effectiveAt: string;
}

@ApiExtraModels(ScheduledChangeDto)
export class SubscriptionResponseDto {
  @ApiProperty({ example: 'bob' })
  userId: string;

  @ApiProperty({ example: 'pro' })
  planId: string;

  @ApiProperty({ example: '2026-11-22T12:00:00.000Z', description: 'The anchor of every period' })
  startsAt: string;

  @ApiProperty({
    type: String,
    nullable: true,
    example: '2026-11-22T12:00:00.000Z',
    description: 'Start of the period in progress (null before startsAt)',
  })
  currentPeriodStart: string | null;

  @ApiProperty({ type: String, nullable: true, example: '2026-12-22T12:00:00.000Z' })
  currentPeriodEnd: string | null;

  @ApiProperty({
    type: String,
    nullable: true,
    example: '2026-12-22T12:00:00.000Z',
    description: 'When the next allowance is granted (null when the plan is deactivated)',
  })
  nextGrantAt: string | null;

  // OpenAPI 3.0 has no nullable $ref: null is its own branch.
  @ApiProperty({
    description: "A change scheduled for the period's end (timing period_end); null when none",
    anyOf: [{ $ref: getSchemaPath(ScheduledChangeDto) }, { type: 'object', nullable: true, enum: [null] }],
  })
  scheduledChange: ScheduledChangeDto | null;
}

export class PreviewLotDto {
  @ApiProperty({ example: '3f1c2a9e-8b7d-4e6f-9a0b-1c2d3e4f5a6b' })
  allocationId: string;

  @ApiInteger({ example: 1200, minimum: 0, description: 'What it has left' })
  credits: number;

  @ApiProperty({ example: '2026-12-22T12:00:00.000Z' })
  expiresAt: string;
}

export class SubscriptionPreviewResponseDto {
  @ApiProperty({ example: 'pro', description: 'The plan the change leads to' })
  planId: string;

  @ApiProperty({ enum: TIMINGS, example: 'now' })
  timing: ChangeTiming;

  @ApiProperty({
    example: '2026-11-30T09:00:00.000Z',
    description: 'When the change takes effect: now, or the end of the period in progress',
  })
  effectiveAt: string;

  @ApiInteger({ example: 4900, minimum: 0, description: 'The plan credits the change grants at once' })
  creditsGrantedNow: number;

  @ApiProperty({
    type: [PreviewLotDto],
    description: 'Every lot with credits left that the change leaves as it is, soonest-expiring first',
  })
  lots: PreviewLotDto[];

  @ApiProperty({ type: String, nullable: true, example: '2026-11-22T12:00:00.000Z' })
  currentPeriodStart: string | null;

  @ApiProperty({ type: String, nullable: true, example: '2026-12-22T12:00:00.000Z' })
  currentPeriodEnd: string | null;

  @ApiProperty({
    type: String,
    nullable: true,
    example: '2026-12-22T12:00:00.000Z',
    description: 'When the subscription after the change grants next',
  })
  nextGrantAt: string | null;
}
