import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsDefined, IsIn, IsInt, IsString, Matches, Max, Min } from 'class-validator';

import { PageQueryDto, PageResponseDto } from '../../common/http/pagination.js';
import { MAX_CREDITS } from '../../common/validation/amounts.js';
import { IsInstant } from '../../common/validation/dates.js';
import { NotTogetherWith } from '../../common/validation/exclusive.js';
import { IsOrgId, IsUserId } from '../../common/validation/ids.js';
import { ApiInteger, ApiIntegerOptional } from '../../common/validation/integers.js';
import { IsOptional } from '../../common/validation/optional.js';
import { PROMOTION_ACCOUNTS, type PromotionAccounts } from '../entities/promotion.entity.js';

/** A code as given: 4–40 of A-Z 0-9 -, in any case (codes compare without case, kept upper-case). */
export const CODE_PATTERN = /^[A-Za-z0-9-]{4,40}$/;
const CODE_MESSAGE = 'code must be 4–40 of A-Z 0-9 -';
const upper = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.toUpperCase() : value);

export class CreatePromotionDto {
  @ApiProperty({ example: 'LAUNCH-2026', minLength: 4, maxLength: 40, description: 'A-Z 0-9 -, compared without case' })
  @Transform(upper)
  @IsString()
  @Matches(CODE_PATTERN, { message: CODE_MESSAGE })
  code: string;

  @ApiInteger({ example: 500, minimum: 1, maximum: MAX_CREDITS })
  @IsInt()
  @Min(1)
  @Max(MAX_CREDITS)
  credits: number;

  @ApiInteger({ example: 30, minimum: 1, maximum: 3650, description: 'The granted allocation’s' })
  @IsInt()
  @Min(1)
  @Max(3650)
  expiryDays: number;

  @ApiPropertyOptional({ example: '2026-01-01T00:00:00.000Z', description: 'Redeemable from (default: now)' })
  @IsOptional()
  @IsInstant()
  startsAt?: string;

  @ApiPropertyOptional({
    example: '2027-01-01T00:00:00.000Z',
    description: 'Redeemable until, excluded (default: never ends)',
  })
  @IsOptional()
  @IsInstant()
  endsAt?: string;

  @ApiIntegerOptional({
    example: 1000,
    minimum: 1,
    maximum: MAX_CREDITS,
    description: 'Across all accounts (default: no limit)',
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(MAX_CREDITS)
  maxRedemptions?: number;

  @ApiIntegerOptional({
    example: 1,
    minimum: 1,
    maximum: MAX_CREDITS,
    default: 1,
    description: 'Redemptions per account',
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(MAX_CREDITS)
  perAccount?: number;

  @ApiPropertyOptional({
    enum: PROMOTION_ACCOUNTS,
    example: 'users',
    default: 'users',
    description: 'Which accounts may redeem it',
  })
  @IsOptional()
  @IsIn(PROMOTION_ACCOUNTS)
  accounts?: PromotionAccounts;

  @ApiIntegerOptional({
    example: 7,
    minimum: 1,
    maximum: 3650,
    description: 'Only accounts created at most this many days before the redemption',
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(3650)
  newAccountsWithinDays?: number;
}

export class UpdatePromotionDto {
  @ApiProperty({ example: false, description: 'false: no longer redeemable (404 to whoever tries)' })
  @IsDefined()
  @IsBoolean()
  active: boolean;
}

export class PromotionResponseDto {
  @ApiProperty({ example: 'LAUNCH-2026' })
  code: string;

  @ApiInteger({ example: 500 })
  credits: number;

  @ApiInteger({ example: 30 })
  expiryDays: number;

  @ApiProperty({ type: String, nullable: true, example: '2026-01-01T00:00:00.000Z' })
  startsAt: string | null;

  @ApiProperty({ type: String, nullable: true, example: '2027-01-01T00:00:00.000Z' })
  endsAt: string | null;

  @ApiInteger({ nullable: true, example: 1000 })
  maxRedemptions: number | null;

  @ApiInteger({ example: 1 })
  perAccount: number;

  @ApiProperty({ enum: PROMOTION_ACCOUNTS, example: 'users' })
  accounts: PromotionAccounts;

  @ApiInteger({ nullable: true, example: null })
  newAccountsWithinDays: number | null;

  @ApiProperty({ example: true })
  active: boolean;

  @ApiInteger({ example: 0, description: 'Redemptions so far' })
  redemptions: number;

  @ApiProperty({ example: '2026-11-21T12:00:00.000Z' })
  createdAt: string;
}

export class PromotionListResponseDto extends PageResponseDto(PromotionResponseDto) {}

export class RedeemPromotionDto {
  @ApiProperty({ example: 'LAUNCH-2026', minLength: 4, maxLength: 40, description: 'Compared without case' })
  @Transform(upper)
  @IsString()
  @Matches(CODE_PATTERN, { message: CODE_MESSAGE })
  code: string;

  @ApiPropertyOptional({
    example: 'acme',
    description: 'Redeem for this org (its owners and admins; service principals)',
  })
  @IsOptional()
  @IsOrgId()
  @NotTogetherWith('userId')
  orgId?: string;

  @ApiPropertyOptional({ example: 'bob', maxLength: 50, description: 'Service principals only: the user redeeming' })
  @IsOptional()
  @IsUserId()
  userId?: string;
}

export class RedemptionResponseDto {
  @ApiProperty({ format: 'uuid', example: '3f1e2d3c-4b5a-4697-8877-665544332211' })
  redemptionId: string;

  @ApiProperty({ example: 'LAUNCH-2026' })
  code: string;

  @ApiProperty({ format: 'uuid', example: '5b0f3a52-8d4e-4f7e-9c1a-2f1e3d4c5b6a' })
  allocationId: string;

  @ApiInteger({ example: 500 })
  credits: number;

  @ApiProperty({ example: '2026-12-21T12:00:00.000Z' })
  expiresAt: string;
}

export class RedemptionViewDto extends RedemptionResponseDto {
  @ApiProperty({ type: String, nullable: true, example: 'bob' })
  userId: string | null;

  @ApiProperty({ type: String, nullable: true, example: null })
  orgId: string | null;

  @ApiProperty({ example: 'bob', description: 'Who redeemed it (the user, or the service principal)' })
  redeemedBy: string;

  @ApiProperty({ example: '2026-11-21T12:00:00.000Z' })
  createdAt: string;
}

export class RedemptionListResponseDto extends PageResponseDto(RedemptionViewDto) {}

export class ListPromotionsQueryDto extends PageQueryDto {}
