import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional, getSchemaPath } from '@nestjs/swagger';
import { IsBoolean, IsIn, IsInt, IsNotEmpty, IsObject, IsString, Matches, Max, MaxLength, Min } from 'class-validator';

import { PageQueryDto, PageResponseDto } from '../../common/http/pagination.js';
import { IsMoney, IsPrices, MAX_PRICES, MoneyDto } from '../../common/money/money.dto.js';
import { MAX_CREDITS } from '../../common/validation/amounts.js';
import { ApiInteger, ApiIntegerOptional } from '../../common/validation/integers.js';
import { ModelPatterns } from '../../common/validation/model-patterns.js';
import { IsOptional, IsOptionalOrNull } from '../../common/validation/optional.js';
import { PLAN_PERIODS, type PlanPeriod } from '../periods.js';

/** A plan's `features`, as creating and changing it take them. */
const FeatureGrants = () =>
  applyDecorators(
    ApiPropertyOptional({
      type: 'object',
      additionalProperties: true,
      nullable: true,
      example: {
        web_search: true,
        'image.generations': { limit: 100, period: 'day' },
        'context.window': { value: 200000 },
      },
      description:
        'What subscribers get of each feature, by key: `true`/`false` (boolean), `{limit, period}` (metered), `{value}` ' +
        '(config), of the feature’s type (400 `GRANT_INVALID`; docs/features.md). null: none. Applies at once.',
    }),
    IsOptionalOrNull(),
    IsObject(),
  );

export class CreatePlanDto {
  @ApiProperty({ example: 'pro', maxLength: 50, pattern: '^[a-z0-9-]+$', description: 'Lowercase letters, digits, -' })
  @IsString()
  @Matches(/^[a-z0-9-]+$/, { message: 'id may hold only lowercase letters, digits and -' })
  @MaxLength(50)
  id: string;

  @ApiProperty({ example: 'Pro', maxLength: 100 })
  @IsString()
  @IsNotEmpty()
  @MaxLength(100)
  name: string;

  @ApiInteger({ example: 5000, minimum: 1, maximum: MAX_CREDITS, description: 'Per period' })
  @IsInt()
  @Min(1)
  @Max(MAX_CREDITS)
  credits: number;

  @ApiProperty({ enum: PLAN_PERIODS, example: 'month' })
  @IsIn(PLAN_PERIODS)
  period: PlanPeriod;

  @ApiIntegerOptional({
    example: 1000,
    minimum: 0,
    maximum: MAX_CREDITS,
    description: 'Unused credits of a period that move to the next one (default 0: none)',
  })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(MAX_CREDITS)
  rolloverCap?: number;

  @ApiPropertyOptional({
    type: MoneyDto,
    description:
      'What a period’s allowance costs: each period’s allowance is valued at it (docs/finance.md); the same as ' +
      '`prices` of one (give one of the two, not both)',
  })
  @IsOptional()
  @IsMoney()
  price?: MoneyDto;

  @ApiPropertyOptional({
    type: [MoneyDto],
    maxItems: MAX_PRICES,
    example: [
      { amount: '49.00', currency: 'usd' },
      { amount: '7500', currency: 'jpy' },
    ],
    description:
      'Its prices, one per currency (at most 20), the first being the default: a subscriber pays the one in its ' +
      'billing currency (a plan without it → 409 CURRENCY_MISMATCH), or sets its billing currency to the first',
  })
  @IsOptional()
  @IsPrices({}, 0)
  prices?: MoneyDto[];

  @ModelPatterns()
  models?: string[] | null;

  @FeatureGrants()
  features?: Record<string, boolean | object> | null;
}

export class UpdatePlanDto {
  @ApiPropertyOptional({ example: 'Pro (2027)', maxLength: 100 })
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(100)
  name?: string;

  @ApiIntegerOptional({ example: 6000, minimum: 1, maximum: MAX_CREDITS })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(MAX_CREDITS)
  credits?: number;

  @ApiIntegerOptional({ example: 500, minimum: 0, maximum: MAX_CREDITS })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(MAX_CREDITS)
  rolloverCap?: number;

  @ApiPropertyOptional({ example: false, description: 'false: subscribers get no further grants' })
  @IsOptional()
  @IsBoolean()
  isActive?: boolean;

  @ApiPropertyOptional({
    type: MoneyDto,
    nullable: true,
    description: 'The price from each subscriber’s next period; null: no price (promotional allowances)',
  })
  @IsOptionalOrNull()
  @IsMoney()
  price?: MoneyDto | null;

  @ApiPropertyOptional({
    type: [MoneyDto],
    maxItems: MAX_PRICES,
    example: [{ amount: '49.00', currency: 'usd' }],
    description: 'Its prices from each subscriber’s next period, replacing all; []: none (give price or prices)',
  })
  @IsOptional()
  @IsPrices({}, 0)
  prices?: MoneyDto[];

  @ModelPatterns()
  models?: string[] | null;

  @FeatureGrants()
  features?: Record<string, boolean | object> | null;
}

export class PlanResponseDto {
  @ApiProperty({ example: 'pro' })
  id: string;

  @ApiProperty({ example: 'Pro' })
  name: string;

  @ApiInteger({ example: 5000 })
  credits: number;

  @ApiProperty({ enum: PLAN_PERIODS, example: 'month' })
  period: PlanPeriod;

  @ApiInteger({ example: 1000 })
  rolloverCap: number;

  @ApiProperty({ example: true })
  isActive: boolean;

  @ApiProperty({
    // OpenAPI 3.0 has no nullable $ref: null is its own branch (as UserOverviewDto's subscription).
    anyOf: [{ $ref: getSchemaPath(MoneyDto) }, { type: 'object', nullable: true, enum: [null] }],
    example: { amount: '49.00', currency: 'usd' },
    description: 'Its first price (null: none, its allowances are promotional)',
  })
  price: MoneyDto | null;

  @ApiProperty({
    type: [MoneyDto],
    example: [
      { amount: '49.00', currency: 'usd' },
      { amount: '7500', currency: 'jpy' },
    ],
    description: 'Its prices, one per currency, the first being `price` ([]: none)',
  })
  prices: MoneyDto[];

  @ApiProperty({
    type: [String],
    nullable: true,
    example: null,
    description: 'The models its subscribers may meter (exact ids, or prefixes ending in `*`); null: every model',
  })
  models: string[] | null;

  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    nullable: true,
    example: { web_search: true, 'image.generations': { limit: 100, period: 'day' } },
    description: 'What subscribers get of each feature, by key (docs/features.md); null: none',
  })
  features: Record<string, boolean | object> | null;

  @ApiProperty({ example: '2026-11-22T12:00:00.000Z' })
  createdAt: string;
}

export class PlanWithCountResponseDto extends PlanResponseDto {
  @ApiInteger({ example: 42, description: 'Live subscriptions' })
  subscriberCount: number;
}

export class PlanListResponseDto extends PageResponseDto(PlanWithCountResponseDto) {}

export class ActivePlanListResponseDto extends PageResponseDto(PlanResponseDto) {}

export class ListPlansQueryDto extends PageQueryDto {}
