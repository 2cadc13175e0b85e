import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsInt, IsString, Max, MaxLength, Min } from 'class-validator';

import { MAX_CREDITS } from '../../common/validation/amounts.js';
import { NotTogetherWith } from '../../common/validation/exclusive.js';
import { OptionalOrgId, OptionalUserId } from '../../common/validation/ids.js';
import { ApiInteger, ApiIntegerOptional } from '../../common/validation/integers.js';
import { IsOptional, IsOptionalOrNull } from '../../common/validation/optional.js';
import { AUTO_RECHARGE_ATTEMPT_STATUSES, type AutoRechargeAttemptStatus } from '../../engine/credit-views.js';

/** The longest `minIntervalMinutes`: 31 days. */
export const MAX_RECHARGE_INTERVAL_MINUTES = 31 * 24 * 60;

/** Which account: a user (`userId`) or an organisation (`orgId`), never both. */
export class AutoRechargeAccountDto {
  @OptionalUserId('A user’s account (not with orgId)')
  @NotTogetherWith('orgId')
  userId?: string;

  @OptionalOrgId('An organisation’s account (not with userId)')
  orgId?: string;
}

export class PutAutoRechargeDto extends AutoRechargeAccountDto {
  @ApiProperty({ example: true, description: 'false turns auto-recharge off (the figures are kept)' })
  @IsBoolean()
  enabled: boolean;

  @ApiInteger({
    example: 100,
    minimum: 0,
    maximum: MAX_CREDITS,
    description: 'A charge that leaves the available credits (held ones excluded) below this opens an attempt',
  })
  @IsInt()
  @Min(0)
  @Max(MAX_CREDITS)
  belowCredits: number;

  @ApiInteger({ example: 1000, minimum: 1, maximum: MAX_CREDITS, description: 'Credits per attempt' })
  @IsInt()
  @Min(1)
  @Max(MAX_CREDITS)
  rechargeCredits: number;

  @ApiIntegerOptional({
    nullable: true,
    example: 5000,
    minimum: 1,
    maximum: MAX_CREDITS,
    description:
      'At most this many credits of attempts that did not fail per UTC calendar month (absent or null: no cap); ' +
      'at least rechargeCredits',
  })
  @IsOptionalOrNull()
  @IsInt()
  @Min(1)
  @Max(MAX_CREDITS)
  maxCreditsPerMonth?: number | null;

  @ApiIntegerOptional({
    example: 60,
    default: 60,
    minimum: 0,
    maximum: MAX_RECHARGE_INTERVAL_MINUTES,
    description:
      'No attempt opens within this many minutes of the opening of the last one (failed ones included). ' +
      'At least 5 unless a supervisor or admin sets it',
  })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(MAX_RECHARGE_INTERVAL_MINUTES)
  minIntervalMinutes?: number;
}

export class FailAutoRechargeAttemptDto {
  @ApiPropertyOptional({ example: 'card_declined', maxLength: 500, description: 'Why the payment failed' })
  @IsOptional()
  @IsString()
  @MaxLength(500)
  reason?: string;
}

export class AutoRechargeAttemptDto {
  @ApiProperty({ format: 'uuid', example: '0b8e4c2e-2f7a-4b4e-9d7c-5a1f3e6d8c90' })
  id: string;

  @ApiInteger({ example: 1000 })
  credits: number;

  @ApiProperty({ enum: AUTO_RECHARGE_ATTEMPT_STATUSES, example: 'open' })
  status: AutoRechargeAttemptStatus;

  @ApiProperty({ example: '2026-11-23T10:15:00.000Z' })
  openedAt: string;

  @ApiProperty({ type: String, nullable: true, example: null })
  closedAt: string | null;
}

export class AutoRechargeResponseDto {
  @ApiPropertyOptional({ example: 'alice', description: 'A user’s account (absent for an organisation’s)' })
  userId?: string;

  @ApiPropertyOptional({ example: 'acme', description: 'An organisation’s account (absent for a user’s)' })
  orgId?: string;

  @ApiProperty({ example: true })
  enabled: boolean;

  @ApiInteger({ nullable: true, example: 100, description: 'null: never set' })
  belowCredits: number | null;

  @ApiInteger({ nullable: true, example: 1000, description: 'null: never set' })
  rechargeCredits: number | null;

  @ApiInteger({ nullable: true, example: 5000, description: 'null: no monthly cap' })
  maxCreditsPerMonth: number | null;

  @ApiInteger({ example: 60 })
  minIntervalMinutes: number;

  @ApiInteger({
    example: 0,
    description: 'Failed attempts since the last success or change of the settings (3 turn auto-recharge off)',
  })
  consecutiveFailures: number;

  @ApiProperty({ type: [AutoRechargeAttemptDto], description: 'The 50 newest attempts, newest first' })
  attempts: AutoRechargeAttemptDto[];
}

export class AutoRechargeAttemptResponseDto extends AutoRechargeAttemptDto {
  @ApiPropertyOptional({ example: 'alice', description: 'A user’s account (absent for an organisation’s)' })
  userId?: string;

  @ApiPropertyOptional({ example: 'acme', description: 'An organisation’s account (absent for a user’s)' })
  orgId?: string;

  @ApiProperty({ type: String, nullable: true, example: 'card_declined', description: 'Why it failed' })
  reason: string | null;

  @ApiProperty({
    example: true,
    description: 'Whether the account’s auto-recharge is still on (the third failure in a row turns it off)',
  })
  autoRechargeEnabled: boolean;
}
