import { ApiProperty, ApiPropertyOptional, getSchemaPath } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsEmail, IsInt, IsNotEmpty, IsString, Max, MaxLength, Min, ValidateIf } from 'class-validator';

import { PageQueryDto, PageResponseDto } from '../../common/http/pagination.js';
import { IsMoney, MoneyDto } from '../../common/money/money.dto.js';
import { MAX_CREDITS } from '../../common/validation/amounts.js';
import { toBoolean } from '../../common/validation/booleans.js';
import { IsInstant } from '../../common/validation/dates.js';
import { NotTogetherWith } from '../../common/validation/exclusive.js';
import { IsOrgId, IsUserId, OptionalUserId } from '../../common/validation/ids.js';
import { ApiInteger, ApiIntegerOptional } from '../../common/validation/integers.js';
import { IsOptional } from '../../common/validation/optional.js';
import { AllocationOriginDto } from './allocation-origin.dto.js';

export class AllocateCreditsDto {
  @ApiPropertyOptional({
    example: 'alice',
    maxLength: 50,
    description: 'The user granted to (give exactly one of userId and orgId)',
  })
  // Required unless orgId is given: exactly one of the two names the account.
  @ValidateIf((o: AllocateCreditsDto) => o.userId !== undefined || o.orgId === undefined)
  @IsUserId()
  @NotTogetherWith('orgId')
  userId?: string;

  @ApiPropertyOptional({
    example: 'acme',
    maxLength: 50,
    description: 'The organisation granted to, instead of a user (give exactly one of userId and orgId)',
  })
  @IsOptional()
  @IsOrgId()
  @NotTogetherWith('email')
  @NotTogetherWith('username')
  orgId?: string;

  @ApiInteger({ example: 1000, minimum: 1, maximum: MAX_CREDITS })
  @IsInt()
  @Min(1)
  @Max(MAX_CREDITS)
  credits: number;

  @ApiIntegerOptional({
    example: 30,
    minimum: 1,
    maximum: 3650,
    default: 30,
    description: 'Days until expiry (not with expiresAt)',
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(3650)
  @NotTogetherWith('expiresAt')
  expiryDays?: number;

  @ApiPropertyOptional({
    example: '2027-01-31T23:59:59.000Z',
    description: 'Exact expiry instant, in the future (not with expiryDays)',
  })
  @IsOptional()
  @IsInstant({ future: true })
  expiresAt?: string;

  @ApiPropertyOptional({ example: 'November top-up', maxLength: 500 })
  @IsOptional()
  @IsString()
  @MaxLength(500)
  notes?: string;

  @ApiPropertyOptional({
    example: 'alice@example.com',
    maxLength: 255,
    description: 'With username: creates the account when it does not exist yet',
  })
  @IsOptional()
  @IsEmail()
  @MaxLength(255)
  email?: string;

  @ApiPropertyOptional({ example: 'alice', maxLength: 255 })
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(255)
  username?: string;

  @ApiPropertyOptional({
    type: MoneyDto,
    description:
      'What the credits were paid for outside the payment provider (an invoice, a contract): the allocation is ' +
      'valued (docs/finance.md). Absent: promotional.',
  })
  @IsOptional()
  @IsMoney()
  value?: MoneyDto;
}

export class AllocationResponseDto extends AllocationOriginDto {
  @ApiProperty({ example: '5b0f3a52-8d4e-4f7e-9c1a-2f1e3d4c5b6a', format: 'uuid' })
  id: string;

  @ApiProperty({
    type: String,
    nullable: true,
    example: 'alice',
    description: 'The user whose allocation it is (null for an organisation’s)',
  })
  userId: string | null;

  @ApiProperty({
    type: String,
    nullable: true,
    example: null,
    description: 'The organisation whose allocation it is (null for a user’s)',
  })
  orgId: string | null;

  @ApiInteger({ example: 1000 })
  totalCredits: number;

  @ApiInteger({ example: 750 })
  remainingCredits: number;

  @ApiProperty({ example: 'admin-bob' })
  allocatedBy: string;

  @ApiProperty({ example: '2026-11-21T12:00:00.000Z' })
  allocatedAt: string;

  @ApiProperty({ example: '2026-12-21T12:00:00.000Z' })
  expiresAt: string;

  @ApiProperty({ type: String, nullable: true, example: 'November top-up' })
  notes: string | null;

  @ApiProperty({ type: String, nullable: true, example: null, description: 'When it was voided (null unless voided)' })
  voidedAt: string | null;

  @ApiProperty({ type: String, nullable: true, example: null, description: 'Who voided it (null unless voided)' })
  voidedBy: string | null;

  @ApiProperty({ type: String, nullable: true, example: null, description: 'The reason given (null unless given)' })
  voidReason: string | null;

  @ApiProperty({
    // OpenAPI 3.0 has no nullable $ref: null is its own branch (as UserOverviewDto's subscription).
    anyOf: [{ $ref: getSchemaPath(MoneyDto) }, { type: 'object', nullable: true, enum: [null] }],
    example: { amount: '10.00', currency: 'usd' },
    description: 'The money paid for its credits (null: promotional)',
  })
  value: MoneyDto | null;

  @ApiProperty({
    type: String,
    nullable: true,
    example: '7.50',
    description: 'The money of its credits left, in the currency’s minor unit places (null: promotional)',
  })
  valueRemaining: string | null;

  @ApiProperty({ example: false, description: 'True when it has no value (grants without value, promotions, signup)' })
  promotional: boolean;
}

export class AllocationListResponseDto extends PageResponseDto(AllocationResponseDto) {}

export class ListAllocationsQueryDto extends PageQueryDto {
  @OptionalUserId('Whose allocations (default: the caller; others need supervisor)')
  userId?: string;

  @ApiPropertyOptional({ example: false, default: false, description: 'Also list expired allocations' })
  @IsOptional()
  @Transform(toBoolean)
  @IsBoolean()
  includeExpired?: boolean;
}

export class VoidAllocationDto {
  @ApiPropertyOptional({ example: 'Granted to the wrong account', maxLength: 500 })
  @IsOptional()
  @IsString()
  @MaxLength(500)
  reason?: string;
}
