import { ApiProperty } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsInt, Max, Min } from 'class-validator';

import { MAX_CREDITS } from '../../common/validation/amounts.js';
import { ApiInteger, ApiIntegerOptional } from '../../common/validation/integers.js';
import { IsOptional, IsOptionalOrNull } from '../../common/validation/optional.js';

export class PutCreditLimitsDto {
  @ApiIntegerOptional({
    example: 500,
    minimum: 0,
    maximum: MAX_CREDITS,
    description: 'Credits a record or a settlement overrun may spend beyond the balance, as debt (default 0)',
  })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(MAX_CREDITS)
  overdraftLimit?: number;

  @ApiIntegerOptional({
    nullable: true,
    example: 2000,
    minimum: 1,
    maximum: MAX_CREDITS,
    description: 'Credits the user may spend in any 60 minutes; null: back to SPEND_RATE_LIMIT_PER_HOUR',
  })
  @IsOptionalOrNull()
  @IsInt()
  @Min(1)
  @Max(MAX_CREDITS)
  maxCreditsPerHour?: number | null;
}

export class CreditLimitsResponseDto {
  @ApiProperty({ example: 'bob' })
  userId: string;

  @ApiInteger({ example: 500 })
  overdraftLimit: number;

  @ApiInteger({
    nullable: true,
    example: 2000,
    description: 'The user’s own hourly limit (null: the default applies)',
  })
  maxCreditsPerHour: number | null;

  @ApiInteger({
    nullable: true,
    example: 2000,
    description: 'The hourly limit in force: the user’s own, else SPEND_RATE_LIMIT_PER_HOUR (null: none)',
  })
  effectiveMaxCreditsPerHour: number | null;

  @ApiInteger({ example: 120, description: 'Owed: repaid first by the next grant' })
  debt: number;
}

export class PutAlertThresholdsDto {
  @ApiInteger({
    isArray: true,
    example: [1000, 100, 0],
    description: 'Balances that trigger balance.low when a movement crosses below them (at most 10)',
  })
  @IsArray()
  @ArrayMaxSize(10)
  @IsInt({ each: true })
  @Min(0, { each: true })
  @Max(MAX_CREDITS, { each: true })
  thresholds: number[];
}

export class AlertThresholdsResponseDto {
  @ApiProperty({ example: 'bob' })
  userId: string;

  @ApiInteger({ isArray: true, example: [1000, 100, 0], description: 'Largest first' })
  thresholds: number[];

  @ApiProperty({
    enum: ['user', 'default'],
    example: 'user',
    description: '`user`: set for this user (PUT); `default`: LOW_BALANCE_THRESHOLDS applies',
  })
  source: 'user' | 'default';
}
