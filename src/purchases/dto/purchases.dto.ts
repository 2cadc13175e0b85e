import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsInt, IsNotEmpty, IsString, IsUUID, Matches, Max, MaxLength, Min, ValidateIf } from 'class-validator';

import { PageQueryDto, PageResponseDto } from '../../common/http/pagination.js';
import { IsAmountOf, IsCurrency } from '../../common/money/money.dto.js';
import { MAX_CREDITS } from '../../common/validation/amounts.js';
import { NotTogetherWith } from '../../common/validation/exclusive.js';
import { OptionalOrgId, OptionalUserId } from '../../common/validation/ids.js';
import { ApiInteger, ApiIntegerOptional } from '../../common/validation/integers.js';
import { IsOptional } from '../../common/validation/optional.js';
import { PACKAGE_ID, PACKAGE_ID_MESSAGE } from '../packages/packages.dto.js';
import { AMOUNT_PATTERN, PURCHASE_MONEY } from '../purchase-money.js';
import {
  PROVIDER_EVENT_TYPES,
  type ProviderEventType,
  PURCHASE_STATUSES,
  type PurchaseStatus,
} from '../purchase-status.js';

const AMOUNT_MESSAGE = 'must be a decimal string like "10.00", of at most 10 whole digits and 4 places';
/** Checked when no package is named, or when given anyway (packageId then refuses the pair). */
const withoutPackage = (o: { packageId?: unknown }, value: unknown) => o.packageId === undefined || value !== undefined;

export class CreatePurchaseDto {
  @OptionalUserId('The buying user (or orgId)')
  @NotTogetherWith('orgId')
  userId?: string;

  @OptionalOrgId('The buying organisation (or userId)')
  orgId?: string;

  @ApiPropertyOptional({
    example: 'starter',
    minLength: 3,
    maxLength: 50,
    description:
      'A package on sale, instead of `credits`, `amount` and `expiryDays`: the purchase is the ' +
      'package’s, at its price in `currency` (else the account’s billing currency, else its first price), ' +
      'and its bonus credits are granted with them',
  })
  @IsOptional()
  @IsString()
  @Matches(PACKAGE_ID, { message: PACKAGE_ID_MESSAGE })
  @NotTogetherWith('credits')
  @NotTogetherWith('amount')
  @NotTogetherWith('expiryDays')
  packageId?: string;

  @ApiIntegerOptional({
    example: 1000,
    minimum: 1,
    maximum: MAX_CREDITS,
    description: 'Required without `packageId`',
  })
  @ValidateIf(withoutPackage)
  @IsInt()
  @Min(1)
  @Max(MAX_CREDITS)
  credits?: number;

  @ApiPropertyOptional({
    example: '10.00',
    description:
      'What the buyer pays: > 0, at most the currency’s minor places (jpy 0, usd 2, kwd 3; required without ' +
      '`packageId`). With packages on ' +
      'sale in the currency, at least their lowest price per credit (else PRICE_BELOW_PACKAGES)',
  })
  @ValidateIf(withoutPackage)
  @IsString()
  @IsAmountOf('currency', PURCHASE_MONEY)
  amount?: string;

  @ApiPropertyOptional({
    example: 'usd',
    description:
      'ISO 4217, 3 lowercase letters (required without `packageId`; with it, one of the package’s prices). ' +
      'Another currency than the account’s billing currency → 409 CURRENCY_MISMATCH',
  })
  @ValidateIf(withoutPackage)
  @IsString()
  @IsCurrency()
  currency?: string;

  @ApiProperty({ example: 'stripe', minLength: 1, maxLength: 30 })
  @IsString()
  @IsNotEmpty()
  @MaxLength(30)
  provider: string;

  @ApiPropertyOptional({
    example: 'cs_test_a1b2c3',
    maxLength: 255,
    description: 'The provider’s reference (a Checkout Session id); unique per provider',
  })
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(255)
  providerRef?: string;

  @ApiIntegerOptional({ example: 365, minimum: 1, maximum: 3650, default: 365 })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(3650)
  expiryDays?: number;

  @ApiPropertyOptional({
    format: 'uuid',
    example: '0d7c3b8e-6a51-4f0e-a0b5-8c2b7f1a9e44',
    description: 'The auto-recharge attempt this purchase pays (closed when it is paid)',
  })
  @IsOptional()
  @IsUUID()
  autoRechargeAttemptId?: string;
}

export class PurchaseResponseDto {
  @ApiProperty({ format: 'uuid', example: '7e0b6c1a-3f52-4d8e-9a61-2c4b5d6e7f80' })
  id: string;

  @ApiProperty({ type: String, nullable: true, example: 'alice', description: 'The buying user (null for an org)' })
  userId: string | null;

  @ApiProperty({ type: String, nullable: true, example: null, description: 'The buying org (null for a user)' })
  orgId: string | null;

  @ApiInteger({ example: 1000 })
  credits: number;

  @ApiProperty({
    type: String,
    nullable: true,
    example: null,
    description: 'The package bought (null: priced by its caller)',
  })
  packageId: string | null;

  @ApiInteger({
    example: 0,
    description: 'The package’s bonus, granted with `credits` in the same allocation',
  })
  bonusCredits: number;

  @ApiProperty({ example: '10.00', description: 'In the currency’s minor places ("1500" jpy, "1.005" kwd)' })
  amount: string;

  @ApiProperty({ example: 'usd' })
  currency: string;

  @ApiProperty({ example: 'stripe' })
  provider: string;

  @ApiProperty({ type: String, nullable: true, example: 'cs_test_a1b2c3' })
  providerRef: string | null;

  @ApiProperty({ type: String, nullable: true, example: 'pi_3Nabc', description: 'Set at payment' })
  providerPaymentId: string | null;

  @ApiProperty({ enum: PURCHASE_STATUSES, example: 'paid' })
  status: PurchaseStatus;

  @ApiProperty({ type: String, nullable: true, format: 'uuid', example: '5b0f3a52-8d4e-4f7e-9c1a-2f1e3d4c5b6a' })
  allocationId: string | null;

  @ApiInteger({ example: 0, description: 'Credits taken back from the purchase’s allocation' })
  refundedCredits: number;

  @ApiProperty({
    example: '0.00',
    description: 'What was refunded (admin refunds, or the provider’s cumulative), in the currency’s places',
  })
  refundedAmount: string;

  @ApiInteger({
    example: 0,
    description: 'Credits a dispute froze (not spendable, not in the balance)',
  })
  disputedCredits: number;

  @ApiInteger({
    example: 0,
    description: 'Credits already spent when taken back: made the account’s debt',
  })
  debtCreated: number;

  @ApiProperty({ type: String, nullable: true, format: 'uuid', example: null })
  autoRechargeAttemptId: string | null;

  @ApiProperty({ example: '2026-11-21T12:00:00.000Z' })
  createdAt: string;

  @ApiProperty({ type: String, nullable: true, example: '2026-11-21T12:01:00.000Z' })
  paidAt: string | null;
}

export class PurchaseListResponseDto extends PageResponseDto(PurchaseResponseDto) {}

export class ListPurchasesQueryDto extends PageQueryDto {
  @OptionalUserId('Whose purchases (default: the caller’s)')
  @NotTogetherWith('orgId')
  userId?: string;

  @OptionalOrgId('An org’s purchases (its readers, staff)')
  orgId?: string;

  @ApiPropertyOptional({ enum: PURCHASE_STATUSES })
  @IsOptional()
  @IsIn(PURCHASE_STATUSES)
  status?: PurchaseStatus;
}

export class MarkPaidDto {
  @ApiPropertyOptional({ example: 'pi_3Nabc', maxLength: 255, description: 'The provider’s payment id' })
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(255)
  providerPaymentId?: string;
}

export class ClosePurchaseDto {
  @ApiPropertyOptional({ example: 'card_declined', maxLength: 500 })
  @IsOptional()
  @IsString()
  @MaxLength(500)
  reason?: string;
}

export class RefundableResponseDto {
  @ApiInteger({ example: 600, description: 'The purchase allocation’s remaining credits' })
  credits: number;

  @ApiProperty({ example: '6.00', description: 'Their share of the amount, rounded down to the currency’s minor unit' })
  amount: string;
}

export class RefundPurchaseDto {
  @ApiIntegerOptional({
    example: 400,
    minimum: 1,
    maximum: MAX_CREDITS,
    description: 'Default: all refundable',
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(MAX_CREDITS)
  credits?: number;

  @ApiPropertyOptional({ example: 'Customer asked', maxLength: 500 })
  @IsOptional()
  @IsString()
  @MaxLength(500)
  reason?: string;
}

export class RefundResponseDto {
  @ApiProperty({ format: 'uuid', example: '1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f' })
  id: string;

  @ApiProperty({ format: 'uuid', example: '7e0b6c1a-3f52-4d8e-9a61-2c4b5d6e7f80' })
  purchaseId: string;

  @ApiInteger({ example: 400 })
  credits: number;

  @ApiProperty({ example: '4.00', description: 'What the platform pays back, in the purchase currency’s minor places' })
  amount: string;

  @ApiProperty({ example: '2026-11-21T12:05:00.000Z' })
  createdAt: string;
}

export class ProviderEventDto {
  @ApiProperty({ enum: PROVIDER_EVENT_TYPES, example: 'refunded' })
  @IsIn(PROVIDER_EVENT_TYPES)
  type: ProviderEventType;

  @ApiPropertyOptional({
    example: '4.00',
    description:
      'With `refunded` only: the cumulative amount refunded, as providers report it, at most the purchase ' +
      'currency’s minor places',
  })
  @IsOptional()
  @IsString()
  @Matches(AMOUNT_PATTERN, { message: `amountRefunded ${AMOUNT_MESSAGE}` })
  amountRefunded?: string;
}
