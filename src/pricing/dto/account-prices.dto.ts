import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsInt, IsString, Matches, Max, MaxLength, Min } from 'class-validator';

import { MAX_TOKENS } from '../../common/validation/amounts.js';
import { IsInstant } from '../../common/validation/dates.js';
import { NotTogetherWith } from '../../common/validation/exclusive.js';
import { IsOrgId, IsUserId } from '../../common/validation/ids.js';
import { ApiInteger, ApiIntegerOptional } from '../../common/validation/integers.js';
import { MODEL_PATTERN } from '../../common/validation/model-patterns.js';
import { IsOptional } from '../../common/validation/optional.js';
import type { UnitPrices } from '../dimensions.js';
import { UnitPricesAnswer, UnitPricesField } from './dimensions.dto.js';
import { Price } from './pricing.dto.js';

const percentToString = ({ value }: { value: unknown }) =>
  typeof value === 'number' && Number.isFinite(value) ? String(value) : value;

/** The kinds an account price may give, as a price rule names them. */
export const ACCOUNT_PRICE_KINDS = [
  'pricePer1kTokens',
  'outputPricePer1kTokens',
  'cacheReadPricePer1kTokens',
  'cacheWritePricePer1kTokens',
  'reasoningPricePer1kTokens',
  'longContextThreshold',
  'longContextPricePer1kTokens',
  'longContextOutputPricePer1kTokens',
  'unitPrices',
] as const;

export class CreateAccountPriceDto {
  @ApiPropertyOptional({ example: 'user-123', description: 'The user whose own account it prices (or orgId)' })
  @IsOptional()
  @IsUserId()
  userId?: string;

  @ApiPropertyOptional({ example: 'acme', description: 'The organisation whose account it prices (or userId)' })
  @IsOptional()
  @IsOrgId()
  orgId?: string;

  @ApiProperty({
    example: 'anthropic.*',
    maxLength: 100,
    description:
      'A model id, or a prefix ending in `*`: an exact id wins over a prefix, a longer prefix over a shorter',
  })
  @IsString()
  @MaxLength(100)
  @Matches(MODEL_PATTERN, { message: 'modelId must be a model id, or a prefix ending in *' })
  modelId: string;

  @ApiPropertyOptional({
    oneOf: [{ type: 'string' }, { type: 'number' }],
    example: '12.5',
    description:
      'A discount on every per-kind and unit price of the model’s rule (0–100, at most 2 places); or per-kind prices',
  })
  @IsOptional()
  @Transform(percentToString)
  @IsString({ message: 'discountPercent must be a number from 0 to 100 with at most 2 places' })
  @Matches(/^(100(\.0{1,2})?|\d{1,2}(\.\d{1,2})?)$/, {
    message: 'discountPercent must be a number from 0 to 100 with at most 2 places',
  })
  discountPercent?: string;

  @Price('pricePer1kTokens', '0.2000', 'Replaces the rule’s input price')
  pricePer1kTokens?: string;

  @Price('outputPricePer1kTokens', '1.0000', 'Replaces the rule’s output price')
  outputPricePer1kTokens?: string;

  @Price('cacheReadPricePer1kTokens', '0.0200', 'Replaces the rule’s cache-read price')
  cacheReadPricePer1kTokens?: string;

  @Price('cacheWritePricePer1kTokens', '0.2500', 'Replaces the rule’s cache-write price')
  cacheWritePricePer1kTokens?: string;

  @Price('reasoningPricePer1kTokens', '1.0000', 'Replaces the rule’s reasoning price')
  reasoningPricePer1kTokens?: string;

  @ApiIntegerOptional({
    example: 200000,
    minimum: 0,
    maximum: MAX_TOKENS,
    description: 'A long-context tier replacing the rule’s (with both tier prices)',
  })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(MAX_TOKENS)
  longContextThreshold?: number;

  @Price('longContextPricePer1kTokens', '0.4000', 'Input price above longContextThreshold')
  longContextPricePer1kTokens?: string;

  @Price('longContextOutputPricePer1kTokens', '1.5000', 'Output price above longContextThreshold')
  longContextOutputPricePer1kTokens?: string;

  @UnitPricesField(true)
  unitPrices?: Record<string, string | number>;

  @ApiProperty({
    example: '2026-12-01T00:00:00.000Z',
    description: 'When it starts: not earlier than now − 60 s (records already billed keep their price)',
  })
  @IsInstant()
  effectiveFrom: string;

  @ApiPropertyOptional({ example: '2027-12-01T00:00:00.000Z', description: 'When it ends (exclusive); absent = open' })
  @IsOptional()
  @IsInstant()
  effectiveTo?: string;

  @ApiPropertyOptional({ example: 'Contract 2026-118', maxLength: 500 })
  @IsOptional()
  @IsString()
  @MaxLength(500)
  notes?: string;
}

export class AccountPricesQueryDto {
  @ApiPropertyOptional({
    description: 'The user whose own account’s prices to list (or orgId; neither: every account’s)',
  })
  @IsOptional()
  @IsUserId()
  @NotTogetherWith('orgId')
  userId?: string;

  @ApiPropertyOptional({ description: 'The organisation whose prices to list (or userId)' })
  @IsOptional()
  @IsOrgId()
  orgId?: string;
}

const nullable = (example: string | number | null, description?: string) =>
  ApiProperty({ type: typeof example === 'number' ? 'integer' : String, nullable: true, example, description });

export class AccountPriceResponseDto {
  @ApiProperty({ example: '0193a0c2-7f00-7000-8000-000000000001', format: 'uuid' })
  id: string;

  @nullable('user-123')
  userId: string | null;

  @nullable(null)
  orgId: string | null;

  @ApiProperty({ example: 'anthropic.*' })
  modelId: string;

  @nullable('12.50', 'The discount on every per-kind price of the rule; null when the price gives per-kind prices')
  discountPercent: string | null;

  @nullable(null)
  pricePer1kTokens: string | null;

  @nullable(null)
  outputPricePer1kTokens: string | null;

  @nullable(null)
  cacheReadPricePer1kTokens: string | null;

  @nullable(null)
  cacheWritePricePer1kTokens: string | null;

  @nullable(null)
  reasoningPricePer1kTokens: string | null;

  @ApiInteger({ nullable: true, example: null, description: 'null: no long-context tier' })
  longContextThreshold: number | null;

  @nullable(null)
  longContextPricePer1kTokens: string | null;

  @nullable(null)
  longContextOutputPricePer1kTokens: string | null;

  @UnitPricesAnswer('Unit prices that replace the rule’s (null: the rule’s); a discount scales the rule’s')
  unitPrices?: UnitPrices | null;

  @ApiProperty({ example: '2026-12-01T00:00:00.000Z' })
  effectiveFrom: string;

  @nullable(null)
  effectiveTo: string | null;

  @nullable('Contract 2026-118')
  notes: string | null;

  @ApiProperty({ example: 'alice' })
  createdBy: string;

  @ApiProperty({ example: '2026-11-21T12:00:00.000Z' })
  createdAt: string;
}

export class AccountPriceListResponseDto {
  @ApiProperty({ type: [AccountPriceResponseDto] })
  items: AccountPriceResponseDto[];

  @ApiProperty({ type: String, nullable: true, example: null, description: 'Always null: one page' })
  nextCursor: string | null;
}
