import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import {
  IsBoolean,
  IsEmail,
  IsInt,
  IsNotEmpty,
  IsString,
  Max,
  MaxLength,
  Min,
  registerDecorator,
  ValidateIf,
  type ValidationArguments,
} from 'class-validator';

import { PageQueryDto } from '../../common/http/pagination.js';
import { MAX_CREDITS, MAX_TOKENS } from '../../common/validation/amounts.js';
import { IsInstant } from '../../common/validation/dates.js';
import { IsOptional } from '../../common/validation/optional.js';
import { LEDGER_KINDS, RECONCILE_PROBLEMS, type ReconcileMismatch } from '../credit-views.js';
import { AllocationOriginDto } from './allocation-origin.dto.js';

/** Refuses the field when `other` is given too. */
function NotTogetherWith(other: string) {
  return (object: object, propertyName: string) =>
    registerDecorator({
      name: 'notTogetherWith',
      target: object.constructor,
      propertyName,
      constraints: [other],
      validator: {
        validate: (_value: unknown, args?: ValidationArguments) =>
          (args?.object as Record<string, unknown>)[other] === undefined,
        defaultMessage: (args?: ValidationArguments) => `give either ${args?.property} or ${other}, not both`,
      },
    });
}

const toBoolean = ({ value }: { value: unknown }) => (value === 'true' ? true : value === 'false' ? false : value);

export class CheckCreditsDto {
  @ApiProperty({
    type: 'integer',
    example: 25,
    minimum: 0,
    maximum: MAX_CREDITS,
    description: 'Credits the caller is about to spend',
  })
  @IsInt()
  @Min(0)
  @Max(MAX_CREDITS)
  credits: number;
}

export class CheckCreditsResponseDto {
  @ApiProperty({ example: true })
  sufficient: boolean;

  @ApiProperty({ example: 25 })
  requiredCredits: number;

  @ApiProperty({ example: 1500, description: 'Credits available now (unexpired allocations, holds excluded)' })
  availableCredits: number;
}

export class CalculateCreditsDto {
  @ApiProperty({ example: 'anthropic.claude-3-haiku-20240307-v1:0', maxLength: 100 })
  @IsString()
  @IsNotEmpty()
  @MaxLength(100)
  modelId: string;

  @ApiPropertyOptional({
    type: 'integer',
    example: 12000,
    minimum: 0,
    maximum: MAX_TOKENS,
    description: 'Token count priced at pricePer1kTokens; required unless inputTokens/outputTokens are given',
  })
  @ValidateIf(
    (o: CalculateCreditsDto) => o.tokens !== undefined || (o.inputTokens === undefined && o.outputTokens === undefined),
  )
  @IsInt()
  @Min(0)
  @Max(MAX_TOKENS)
  @NotTogetherWith('inputTokens')
  @NotTogetherWith('outputTokens')
  tokens?: number;

  @ApiPropertyOptional({
    type: 'integer',
    example: 9000,
    minimum: 0,
    maximum: MAX_TOKENS,
    description: 'Input tokens (priced at pricePer1kTokens)',
  })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(MAX_TOKENS)
  inputTokens?: number;

  @ApiPropertyOptional({
    type: 'integer',
    example: 3000,
    minimum: 0,
    maximum: MAX_TOKENS,
    description: 'Output tokens (priced at outputPricePer1kTokens)',
  })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(MAX_TOKENS)
  outputTokens?: number;
}

export class CalculateCreditsResponseDto {
  @ApiProperty({ example: 'anthropic.claude-3-haiku-20240307-v1:0' })
  modelId: string;

  @ApiProperty({ example: 12000, description: 'Total tokens priced (input + output when split)' })
  tokens: number;

  @ApiProperty({ example: 3, description: 'ceil((input × price + output × outputPrice) / 1000), exact' })
  credits: number;

  @ApiProperty({ example: '0.2500' })
  pricePer1kTokens: string;

  @ApiProperty({ example: '0.2500' })
  outputPricePer1kTokens: string;

  @ApiProperty({ enum: ['rule', 'default'], example: 'rule' })
  source: 'rule' | 'default';
}

export class AllocateCreditsDto {
  @ApiProperty({ example: 'alice', maxLength: 50 })
  @IsString()
  @IsNotEmpty()
  @MaxLength(50)
  userId: string;

  @ApiProperty({ type: 'integer', example: 1000, minimum: 1, maximum: MAX_CREDITS })
  @IsInt()
  @Min(1)
  @Max(MAX_CREDITS)
  credits: number;

  @ApiPropertyOptional({
    type: 'integer',
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
}

export class AllocationResponseDto extends AllocationOriginDto {
  @ApiProperty({ example: '5b0f3a52-8d4e-4f7e-9c1a-2f1e3d4c5b6a', format: 'uuid' })
  id: string;

  @ApiProperty({ example: 'alice' })
  userId: string;

  @ApiProperty({ example: 1000 })
  totalCredits: number;

  @ApiProperty({ example: 750 })
  remainingCredits: number;

  @ApiProperty({ example: 'admin-bob' })
  allocatedBy: string;

  @ApiProperty({ example: '2026-11-21T12:00:00.000Z' })
  allocatedAt: string;

  @ApiProperty({ example: '2026-12-21T12:00:00.000Z' })
  expiresAt: string;

  @ApiProperty({ type: String, nullable: true, example: 'November top-up' })
  notes: string | null;
}

export class AllocationListResponseDto {
  @ApiProperty({ type: [AllocationResponseDto] })
  items: AllocationResponseDto[];

  @ApiProperty({ type: String, nullable: true, example: null })
  nextCursor: string | null;
}

export class ListAllocationsQueryDto extends PageQueryDto {
  @ApiPropertyOptional({
    example: 'alice',
    maxLength: 50,
    description: 'Whose allocations (default: the caller; others need supervisor)',
  })
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(50)
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

export class ActiveAllocationDto extends AllocationOriginDto {
  @ApiProperty({ example: '5b0f3a52-8d4e-4f7e-9c1a-2f1e3d4c5b6a', format: 'uuid' })
  id: string;

  @ApiProperty({ example: 750, description: 'Credits left in this allocation' })
  credits: number;

  @ApiProperty({ example: 1000 })
  totalCredits: number;

  @ApiProperty({ example: '2026-12-21T12:00:00.000Z' })
  expiresAt: string;

  @ApiProperty({ example: '2026-11-21T12:00:00.000Z' })
  allocatedAt: string;

  @ApiProperty({ type: String, nullable: true, example: 'November top-up' })
  notes: string | null;
}

export class BalanceResponseDto {
  @ApiProperty({ example: 'alice' })
  userId: string;

  @ApiProperty({ example: 750, description: 'Credits available now (unexpired allocations, holds already excluded)' })
  totalCredits: number;

  @ApiProperty({ example: 24, description: 'Credits held by active streaming sessions' })
  heldCredits: number;

  @ApiProperty({
    type: [ActiveAllocationDto],
    description: 'Unexpired allocations with credits left, soonest expiry first',
  })
  activeAllocations: ActiveAllocationDto[];
}

export class LedgerQueryDto extends PageQueryDto {
  @ApiPropertyOptional({
    example: 'alice',
    maxLength: 50,
    description: 'Whose ledger (default: the caller; others need supervisor)',
  })
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(50)
  userId?: string;
}

export class LedgerEntryDto {
  @ApiProperty({ example: '1042', description: 'Increasing with insertion order' })
  id: string;

  @ApiProperty({ example: 'alice' })
  userId: string;

  @ApiProperty({ example: '5b0f3a52-8d4e-4f7e-9c1a-2f1e3d4c5b6a', format: 'uuid' })
  allocationId: string;

  @ApiProperty({ enum: LEDGER_KINDS, example: 'debit' })
  kind: (typeof LEDGER_KINDS)[number];

  @ApiProperty({ example: -3, description: 'Signed change of the allocation’s remaining credits' })
  amount: number;

  @ApiProperty({ example: 747, description: 'The user’s available credits after this entry' })
  balanceAfter: number;

  @ApiProperty({ type: String, nullable: true, example: null })
  sessionId: string | null;

  @ApiProperty({ type: String, nullable: true, example: 'c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e5f' })
  usageRecordId: string | null;

  @ApiProperty({ example: 'alice' })
  createdBy: string;

  @ApiProperty({ example: '2026-11-21T12:00:00.000Z' })
  createdAt: string;
}

export class LedgerListResponseDto {
  @ApiProperty({ type: [LedgerEntryDto] })
  items: LedgerEntryDto[];

  @ApiProperty({ type: String, nullable: true, example: null })
  nextCursor: string | null;
}

export class ReconcileMismatchDto {
  @ApiProperty({
    enum: RECONCILE_PROBLEMS,
    example: 'remaining_mismatch',
    description:
      'remaining_mismatch: remaining ≠ total + Σ non-grant entries; negative_remaining; grant_mismatch: not exactly ' +
      'one grant of +total; hold_mismatch: an open hold ≠ its hold/release entries; rollover_mismatch: a rollover ' +
      'allocation ≠ the credits its rollover entries took from the period before',
  })
  problem: ReconcileMismatch['problem'];

  @ApiProperty({ example: 'alice' })
  userId: string;

  @ApiProperty({ type: String, nullable: true, example: '5b0f3a52-8d4e-4f7e-9c1a-2f1e3d4c5b6a' })
  allocationId: string | null;

  @ApiProperty({ type: String, nullable: true, example: null })
  sessionId: string | null;

  @ApiProperty({ example: 740, description: 'What the ledger says' })
  expected: number;

  @ApiProperty({ example: 750, description: 'What the row says' })
  actual: number;
}

export class ReconcileResponseDto {
  @ApiProperty({ example: 1200 })
  checkedAllocations: number;

  @ApiProperty({ type: [ReconcileMismatchDto] })
  mismatches: ReconcileMismatchDto[];
}
