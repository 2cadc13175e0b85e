import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsInt, Max, Min } from 'class-validator';

import { MAX_CREDITS } from '../../common/validation/amounts.js';
import { IsOptional, IsOptionalOrNull } from '../../common/validation/optional.js';

export class PutCreditLimitsDto {
  @ApiPropertyOptional({
    type: 'integer',
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

  @ApiPropertyOptional({
    type: 'integer',
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

  @ApiProperty({ type: 'integer', example: 500 })
  overdraftLimit: number;

  @ApiProperty({
    type: 'integer',
    nullable: true,
    example: 2000,
    description: 'The user’s own hourly limit (null: the default applies)',
  })
  maxCreditsPerHour: number | null;

  @ApiProperty({
    type: 'integer',
    nullable: true,
    example: 2000,
    description: 'The hourly limit in force: the user’s own, else SPEND_RATE_LIMIT_PER_HOUR (null: none)',
  })
  effectiveMaxCreditsPerHour: number | null;

  @ApiProperty({ type: 'integer', example: 120, description: 'Owed: repaid first by the next grant' })
  debt: number;
}

export class PutAlertThresholdsDto {
  @ApiProperty({
    type: 'integer',
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

  @ApiProperty({ type: 'integer', isArray: true, example: [1000, 100, 0], description: 'Largest first' })
  thresholds: number[];

  @ApiProperty({
    enum: ['user', 'default'],
    example: 'user',
    description: '`user`: set for this user (PUT); `default`: LOW_BALANCE_THRESHOLDS applies',
  })
  source: 'user' | 'default';
}
