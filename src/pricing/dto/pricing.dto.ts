import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsNotEmpty, IsString, Matches, MaxLength } from 'class-validator';

import { IsInstant } from '../../common/validation/dates.js';
import { IsOptional } from '../../common/validation/optional.js';
import { PRICE_PATTERN } from '../pricing-math.js';

/** Prices arrive as string or number; numbers become their shortest decimal string (1e-5 is refused). */
const priceToString = ({ value }: { value: unknown }) =>
  typeof value === 'number' && Number.isFinite(value) ? String(value) : value;
const PRICE_MESSAGE = (field: string) =>
  `${field} must be a decimal ≥ 0 with at most 4 places (string or number, below 1,000,000)`;

export class CreatePricingRuleDto {
  @ApiProperty({ example: 'anthropic.claude-3-haiku-20240307-v1:0', maxLength: 100 })
  @IsString()
  @IsNotEmpty()
  @MaxLength(100)
  modelId: string;

  @ApiProperty({
    oneOf: [{ type: 'string' }, { type: 'number' }],
    example: '0.2500',
    description: 'Credits per 1,000 (input) tokens, ≥ 0, at most 4 decimals',
  })
  @Transform(priceToString)
  @IsString({ message: PRICE_MESSAGE('pricePer1kTokens') })
  @Matches(PRICE_PATTERN, { message: PRICE_MESSAGE('pricePer1kTokens') })
  pricePer1kTokens: string;

  @ApiPropertyOptional({
    oneOf: [{ type: 'string' }, { type: 'number' }],
    example: '1.2500',
    description: 'Credits per 1,000 output tokens (defaults to pricePer1kTokens)',
  })
  @IsOptional()
  @Transform(priceToString)
  @IsString({ message: PRICE_MESSAGE('outputPricePer1kTokens') })
  @Matches(PRICE_PATTERN, { message: PRICE_MESSAGE('outputPricePer1kTokens') })
  outputPricePer1kTokens?: string;

  @ApiPropertyOptional({
    oneOf: [{ type: 'string' }, { type: 'number' }],
    example: '0.0030',
    description: 'What the provider charges per 1,000 tokens (margin reports)',
  })
  @IsOptional()
  @Transform(priceToString)
  @IsString({ message: PRICE_MESSAGE('providerCostPer1kTokens') })
  @Matches(PRICE_PATTERN, { message: PRICE_MESSAGE('providerCostPer1kTokens') })
  providerCostPer1kTokens?: string;

  @ApiPropertyOptional({
    example: '2026-12-01T00:00:00.000Z',
    description: 'Start of the rule (default now); the open rule is closed here',
  })
  @IsOptional()
  @IsInstant()
  effectiveFrom?: string;

  @ApiPropertyOptional({
    example: '2027-01-01T00:00:00.000Z',
    description: 'End of the rule (exclusive); absent = open-ended',
  })
  @IsOptional()
  @IsInstant()
  effectiveTo?: string;
}

export class PricingRuleResponseDto {
  @ApiProperty({ example: '8a6f0c1e-2b3d-4e5f-9a0b-1c2d3e4f5a6b', format: 'uuid' })
  id: string;

  @ApiProperty({ example: 'anthropic.claude-3-haiku-20240307-v1:0' })
  modelId: string;

  @ApiProperty({ example: '0.2500' })
  pricePer1kTokens: string;

  @ApiProperty({
    type: String,
    nullable: true,
    example: null,
    description: 'null: output tokens cost pricePer1kTokens',
  })
  outputPricePer1kTokens: string | null;

  @ApiProperty({ type: String, nullable: true, example: '0.0030' })
  providerCostPer1kTokens: string | null;

  @ApiProperty({ example: '2026-12-01T00:00:00.000Z' })
  effectiveFrom: string;

  @ApiProperty({ type: String, nullable: true, example: null })
  effectiveTo: string | null;

  @ApiProperty({ example: 'system' })
  createdBy: string;

  @ApiProperty({ example: '2026-11-21T12:00:00.000Z' })
  createdAt: string;
}

export class PricingRuleListResponseDto {
  @ApiProperty({ type: [PricingRuleResponseDto] })
  items: PricingRuleResponseDto[];

  @ApiProperty({
    type: String,
    nullable: true,
    example: null,
    description: 'Always null: the whole list fits one page',
  })
  nextCursor: string | null;
}

export class ModelPriceResponseDto {
  @ApiProperty({ example: 'anthropic.claude-3-haiku-20240307-v1:0' })
  modelId: string;

  @ApiProperty({ example: '0.2500' })
  pricePer1kTokens: string;

  @ApiProperty({ example: '0.2500', description: 'Price of output tokens (pricePer1kTokens unless the rule sets one)' })
  outputPricePer1kTokens: string;

  @ApiProperty({ type: String, nullable: true, example: null })
  providerCostPer1kTokens: string | null;

  @ApiProperty({ type: String, nullable: true, example: '8a6f0c1e-2b3d-4e5f-9a0b-1c2d3e4f5a6b' })
  pricingRuleId: string | null;

  @ApiProperty({ enum: ['rule', 'default'], example: 'rule' })
  source: 'rule' | 'default';

  @ApiProperty({ type: String, nullable: true, example: '2024-01-01T00:00:00.000Z' })
  effectiveFrom: string | null;

  @ApiProperty({ type: String, nullable: true, example: null })
  effectiveTo: string | null;
}
