import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { Allow, IsBoolean, IsInt, IsNotEmpty, IsString, Matches, Max, MaxLength, Min } from 'class-validator';

import { PageQueryDto, PageResponseDto } from '../../common/http/pagination.js';
import { IsCurrency, IsMoney, IsPrices, MAX_PRICES } from '../../common/money/money.dto.js';
import { MAX_CREDITS } from '../../common/validation/amounts.js';
import { toBoolean } from '../../common/validation/booleans.js';
import { ApiInteger, ApiIntegerOptional } from '../../common/validation/integers.js';
import { IsOptional } from '../../common/validation/optional.js';
import { PURCHASE_MONEY } from '../purchase-money.js';

/** A package id: 3–50 of a-z 0-9 - _. */
export const PACKAGE_ID = /^[a-z0-9_-]{3,50}$/;
export const PACKAGE_ID_MESSAGE = 'packageId must be 3–50 of a-z 0-9 - _';

/** A package's price: money by the one rule (IsMoney), stored as a purchase's amount (at most 10 whole digits). */
export class PackagePriceDto {
  @ApiProperty({
    example: '10.00',
    description: 'What the buyer pays: > 0, at most the currency’s minor places (jpy 0, usd 2, kwd 3)',
  })
  @Allow()
  amount: string;

  @ApiProperty({ example: 'usd', description: 'ISO 4217, 3 lowercase letters' })
  @Allow()
  currency: string;
}

export class CreatePackageDto {
  @ApiProperty({ example: 'starter', minLength: 3, maxLength: 50, description: '3–50 of a-z 0-9 - _' })
  @IsString()
  @Matches(PACKAGE_ID, { message: PACKAGE_ID_MESSAGE })
  packageId: string;

  @ApiProperty({ example: 'Starter', minLength: 1, maxLength: 100 })
  @IsString()
  @IsNotEmpty()
  @MaxLength(100)
  name: string;

  @ApiInteger({ example: 1000, minimum: 1, maximum: MAX_CREDITS })
  @IsInt()
  @Min(1)
  @Max(MAX_CREDITS)
  credits: number;

  @ApiIntegerOptional({
    example: 100,
    minimum: 0,
    maximum: MAX_CREDITS,
    default: 0,
    description: 'Granted with `credits`, in the same allocation',
  })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(MAX_CREDITS)
  bonusCredits?: number;

  @ApiPropertyOptional({
    type: PackagePriceDto,
    description: 'One price: the same as `prices` of one (give one of the two, not both)',
  })
  @IsOptional()
  @IsMoney(PURCHASE_MONEY, PackagePriceDto)
  price?: PackagePriceDto;

  @ApiPropertyOptional({
    type: [PackagePriceDto],
    minItems: 1,
    maxItems: MAX_PRICES,
    example: [
      { amount: '10.00', currency: 'usd' },
      { amount: '1500', currency: 'jpy' },
    ],
    description:
      'Its prices, one per currency (at most 20), the first being the default: a purchase pays the one in the ' +
      'currency it names, else in the account’s billing currency, else the first',
  })
  @IsOptional()
  @IsPrices(PURCHASE_MONEY)
  prices?: PackagePriceDto[];

  @ApiIntegerOptional({ example: 365, minimum: 1, maximum: 3650, default: 365 })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(3650)
  expiryDays?: number;

  @ApiPropertyOptional({ example: true, default: true, description: 'On sale (listed, purchasable)' })
  @IsOptional()
  @IsBoolean()
  active?: boolean;
}

export class UpdatePackageDto {
  @ApiPropertyOptional({ example: 'Starter (2026)', minLength: 1, maxLength: 100 })
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(100)
  name?: string;

  @ApiPropertyOptional({ example: false, description: 'false takes it off sale; its purchases stand' })
  @IsOptional()
  @IsBoolean()
  active?: boolean;
}

export class ListPackagesQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ example: 'usd', description: 'Only packages with a price in this currency' })
  @IsOptional()
  @IsString()
  @IsCurrency()
  currency?: string;

  @ApiPropertyOptional({
    example: false,
    description: 'Staff only: list packages taken off sale too (the console does)',
  })
  @IsOptional()
  @Transform(toBoolean)
  @IsBoolean()
  includeInactive?: boolean;
}

export class PackageResponseDto {
  @ApiProperty({ example: 'starter' })
  packageId: string;

  @ApiProperty({ example: 'Starter' })
  name: string;

  @ApiInteger({ example: 1000 })
  credits: number;

  @ApiInteger({ example: 100 })
  bonusCredits: number;

  @ApiProperty({ type: PackagePriceDto, description: 'Its first price (the first of `prices`)' })
  price: PackagePriceDto;

  @ApiProperty({
    type: [PackagePriceDto],
    example: [
      { amount: '10.00', currency: 'usd' },
      { amount: '1500', currency: 'jpy' },
    ],
    description: 'Its prices, one per currency, in the order they were given',
  })
  prices: PackagePriceDto[];

  @ApiInteger({ example: 365 })
  expiryDays: number;

  @ApiProperty({ example: true })
  active: boolean;

  @ApiProperty({ example: '2026-11-21T12:00:00.000Z' })
  createdAt: string;
}

export class PackageListResponseDto extends PageResponseDto(PackageResponseDto) {}
