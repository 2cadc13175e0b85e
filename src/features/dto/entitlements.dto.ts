import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsNotEmpty, IsString, Matches, Max, MaxLength, Min, ValidateIf } from 'class-validator';

import { PageQueryDto, PageResponseDto } from '../../common/http/pagination.js';
import { FlatBody } from '../../common/validation/body-validation.pipe.js';
import { NotTogetherWith } from '../../common/validation/exclusive.js';
import { IsOrgId, IsUserId, OptionalUserId } from '../../common/validation/ids.js';
import { ApiIntegerOptional } from '../../common/validation/integers.js';
import { IsOptional } from '../../common/validation/optional.js';
import { FEATURE_KEY_PATTERN, FEATURE_TYPES, type FeatureType, type Grant, MAX_GRANT_LIMIT } from '../grants.js';
import { GrantProperty, IsGrantShape, NULLABLE_GRANT_SCHEMA } from './grant.dto.js';

export const CHECK_REASONS = ['not_granted', 'limit_reached', 'unknown_feature'] as const;
export type CheckReason = (typeof CHECK_REASONS)[number];
export const GRANT_SOURCES = ['plan', 'override'] as const;
export type GrantSource = (typeof GRANT_SOURCES)[number];

export class SetEntitlementDto {
  @OptionalUserId('The user whose own account it is (or orgId)')
  @NotTogetherWith('orgId')
  userId?: string;

  @ApiPropertyOptional({ example: 'acme', description: 'The organisation whose account it is (or userId)' })
  @IsOptional()
  @IsOrgId()
  orgId?: string;

  @ApiProperty({
    ...NULLABLE_GRANT_SCHEMA,
    example: { limit: 500, period: 'day' },
    description:
      'The account’s own grant, which wins over its plan’s: `true`/`false` (boolean features), `{limit, period}` ' +
      '(metered), `{value}` (config). null removes the override (the plan’s grant applies again).',
  })
  @ValidateIf((o: SetEntitlementDto) => o.grant !== null)
  @IsGrantShape()
  grant: Grant | null;
}

@FlatBody()
export class CheckEntitlementDto {
  @OptionalUserId('The user whose own account is checked (or orgId; neither: the caller’s own account)')
  @NotTogetherWith('orgId')
  userId?: string;

  @ApiPropertyOptional({ example: 'acme', description: 'The organisation whose account is checked (its grants)' })
  @IsOptional()
  @IsOrgId()
  orgId?: string;

  @ApiProperty({ example: 'image.generations', maxLength: 64 })
  @IsString()
  @Matches(FEATURE_KEY_PATTERN, { message: 'featureKey must be 1–64 of a-z, 0-9, _, . and -' })
  featureKey: string;

  @ApiIntegerOptional({
    minimum: 1,
    maximum: MAX_GRANT_LIMIT,
    example: 1,
    description: 'Metered features only: uses to consume if allowed (nothing is consumed when refused)',
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(MAX_GRANT_LIMIT)
  consume?: number;

  @ApiPropertyOptional({
    example: 'img-7f3a91',
    minLength: 1,
    maxLength: 100,
    description:
      'With consume: the use’s own id. A repeat (same account and feature, within 35 days) answers the first ' +
      'answer again and consumes nothing.',
  })
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(100)
  eventId?: string;
}

export class CheckEntitlementResponseDto {
  @ApiProperty({ example: 'image.generations' })
  featureKey: string;

  @ApiProperty({
    enum: [...FEATURE_TYPES, null],
    nullable: true,
    example: 'metered',
    description: 'null: no such feature',
  })
  type: FeatureType | null;

  @ApiProperty({ example: true })
  allowed: boolean;

  @ApiPropertyOptional({ enum: CHECK_REASONS, example: 'limit_reached', description: 'Why not (refusals only)' })
  reason?: CheckReason;

  @ApiIntegerOptional({ example: 100, description: 'Metered: uses per period' })
  limit?: number;

  @ApiIntegerOptional({
    example: 43,
    description: 'Metered: uses this period (this check’s included)',
  })
  used?: number;

  @ApiIntegerOptional({ example: 57, description: 'Metered: uses left this period' })
  remaining?: number;

  @ApiPropertyOptional({
    type: String,
    nullable: true,
    example: '2026-11-23T00:00:00.000Z',
    description: 'Metered: when the period ends and use counts from 0 again (null: lifetime, never)',
  })
  resetsAt?: string | null;

  @ApiPropertyOptional({
    description: 'Config: the granted value (any JSON)',
    oneOf: [
      { type: 'number' },
      { type: 'string' },
      { type: 'boolean' },
      { type: 'object' },
      { type: 'array', items: {} },
    ],
    example: 200000,
  })
  value?: unknown;
}

export class EntitlementResponseDto {
  @ApiProperty({ example: 'image.generations' })
  featureKey: string;

  @ApiProperty({ example: 'Image generations' })
  name: string;

  @ApiProperty({ enum: FEATURE_TYPES, example: 'metered' })
  type: FeatureType;

  @GrantProperty('The grant in force: the override’s, else the plan’s; null: none', { limit: 100, period: 'day' })
  grant: Grant | null;

  @ApiProperty({
    enum: [...GRANT_SOURCES, null],
    nullable: true,
    example: 'plan',
    description: 'Where the grant comes from',
  })
  source: GrantSource | null;

  @ApiIntegerOptional({ example: 43, description: 'Metered and granted: uses this period' })
  used?: number;

  @ApiIntegerOptional({ example: 57, description: 'Metered and granted: uses left this period' })
  remaining?: number;

  @ApiPropertyOptional({
    type: String,
    nullable: true,
    example: '2026-11-23T00:00:00.000Z',
    description: 'Metered and granted: when the period ends (null: lifetime)',
  })
  resetsAt?: string | null;
}

export class EntitlementListResponseDto extends PageResponseDto(EntitlementResponseDto) {}

export class EntitlementsQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ example: 'alice', description: 'The user whose own account to list (or orgId)' })
  @IsOptional()
  @IsUserId()
  @NotTogetherWith('orgId')
  userId?: string;

  @ApiPropertyOptional({ example: 'acme', description: 'The organisation whose account to list (or userId)' })
  @IsOptional()
  @IsOrgId()
  orgId?: string;
}
