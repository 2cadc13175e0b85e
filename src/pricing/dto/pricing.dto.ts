import { applyDecorators } from '@nestjs/common';
import { ApiExtraModels, ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsBoolean,
  IsInt,
  IsObject,
  IsString,
  Matches,
  Max,
  Min,
  ValidateNested,
} from 'class-validator';

import { MAX_TOKENS } from '../../common/validation/amounts.js';
import { toBoolean } from '../../common/validation/booleans.js';
import { IsInstant } from '../../common/validation/dates.js';
import { NotTogetherWith } from '../../common/validation/exclusive.js';
import { IsModelId } from '../../common/validation/ids.js';
import { ApiInteger, ApiIntegerOptional } from '../../common/validation/integers.js';
import { IsOptional } from '../../common/validation/optional.js';
import type { ServiceTiers, UnitPrices } from '../dimensions.js';
import { PRICE_PATTERN, TOKEN_KINDS, type TokenKind } from '../pricing-math.js';
import type { VolumeSteps } from '../volume-steps.js';
import { ServiceTiersAnswer, ServiceTiersField, UnitPricesAnswer, UnitPricesField } from './dimensions.dto.js';
import { PRICE_ORIGINS, PriceSourceAnswer, PriceSourceDto } from './price-source.dto.js';
import { VolumeAnswer, VolumeField } from './volume.dto.js';

export const MAX_IMPORT_RULES = 500;

/** Prices arrive as string or number; numbers become their shortest decimal string (1e-5 is refused). */
const priceToString = ({ value }: { value: unknown }) =>
  typeof value === 'number' && Number.isFinite(value) ? String(value) : value;
const PRICE_MESSAGE = (field: string) =>
  `${field} must be a decimal ≥ 0 with at most 10 places (string or number, below 1,000,000)`;

/** A price field of a rule: string or number, ≥ 0, at most 10 places; optional unless `required`. */
export function Price(field: string, example: string, description: string, required = false): PropertyDecorator {
  const doc = { oneOf: [{ type: 'string' }, { type: 'number' }], example, description };
  return applyDecorators(
    required ? ApiProperty(doc) : ApiPropertyOptional(doc),
    ...(required ? [] : [IsOptional()]),
    Transform(priceToString),
    IsString({ message: PRICE_MESSAGE(field) }),
    Matches(PRICE_PATTERN, { message: PRICE_MESSAGE(field) }),
  );
}

/** What the provider charges per 1,000 tokens of each kind (margin reports, never charged). */
export class ProviderCostDto {
  @Price('input', '3.0000', 'Input tokens', true)
  input: string;

  @Price('output', '15.0000', 'Output tokens (default: input)')
  output?: string;

  @Price('cacheRead', '0.3000', 'Cache-read tokens (default: input)')
  cacheRead?: string;

  @Price('cacheWrite', '3.7500', 'Cache-write tokens (default: input)')
  cacheWrite?: string;

  @Price('reasoning', '15.0000', 'Reasoning tokens (default: output)')
  reasoning?: string;
}

/** A rule's model and prices: what a rule of POST /api/pricing and each rule of an import carry. */
export class PricingRuleFieldsDto {
  @ApiProperty({ example: 'anthropic.claude-3-haiku-20240307-v1:0', maxLength: 100 })
  @IsModelId()
  modelId: string;

  @Price('pricePer1kTokens', '0.2500', 'Credits per 1,000 (input) tokens, ≥ 0, at most 4 decimals', true)
  pricePer1kTokens: string;

  @Price('outputPricePer1kTokens', '1.2500', 'Credits per 1,000 output tokens (defaults to pricePer1kTokens)')
  outputPricePer1kTokens?: string;

  @Price('cacheReadPricePer1kTokens', '0.0250', 'Credits per 1,000 cache-read tokens (defaults to pricePer1kTokens)')
  cacheReadPricePer1kTokens?: string;

  @Price('cacheWritePricePer1kTokens', '0.3125', 'Credits per 1,000 cache-write tokens (defaults to pricePer1kTokens)')
  cacheWritePricePer1kTokens?: string;

  @Price(
    'reasoningPricePer1kTokens',
    '1.2500',
    'Credits per 1,000 reasoning tokens (defaults to outputPricePer1kTokens)',
  )
  reasoningPricePer1kTokens?: string;

  @ApiIntegerOptional({
    example: 200000,
    minimum: 0,
    maximum: MAX_TOKENS,
    description:
      'Long-context tier: when the prompt (input + cache-read + cache-write tokens) exceeds it, input and output ' +
      'cost longContextPricePer1kTokens and longContextOutputPricePer1kTokens (both then required)',
  })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(MAX_TOKENS)
  longContextThreshold?: number;

  @Price('longContextPricePer1kTokens', '0.5000', 'Input price above longContextThreshold')
  longContextPricePer1kTokens?: string;

  @Price('longContextOutputPricePer1kTokens', '1.8750', 'Output price above longContextThreshold')
  longContextOutputPricePer1kTokens?: string;

  @Price(
    'providerCostPer1kTokens',
    '0.0030',
    'What the provider charges per 1,000 tokens (input and output); providerCost gives it per kind',
  )
  @NotTogetherWith('providerCost')
  providerCostPer1kTokens?: string;

  @ApiPropertyOptional({ type: ProviderCostDto, description: 'The provider’s cost per kind (margin reports)' })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => ProviderCostDto)
  providerCost?: ProviderCostDto;

  @ServiceTiersField()
  serviceTiers?: Record<string, { pricePercent: string | number }>;

  @UnitPricesField()
  unitPrices?: Record<string, string | number>;

  @VolumeField()
  volume?: { mode: string; period: string; steps: { upTo: number | null; pricePercent: string | number }[] };

  @ApiIntegerOptional({
    example: 16384,
    minimum: 1,
    maximum: MAX_TOKENS,
    description:
      'The most output tokens the gateway holds for a request of the model that names no limit of its own ' +
      '(default GATEWAY_MAX_OUTPUT_TOKENS)',
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(MAX_TOKENS)
  maxOutputTokens?: number;

  @ApiIntegerOptional({
    example: 200000,
    minimum: 1,
    maximum: MAX_TOKENS,
    description:
      'The model’s context window: the input tokens the gateway holds for a request that brings input its body ' +
      'does not contain (a stored conversation, a file or image URL); without it such a request is refused',
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(MAX_TOKENS)
  contextWindow?: number;
}

export class CreatePricingRuleDto extends PricingRuleFieldsDto {
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

export class ImportPricingDto {
  @ApiPropertyOptional({
    example: '2026-12-01T00:00:00.000Z',
    description: 'When every rule of the sheet takes effect (default now); each model’s open rule is closed there',
  })
  @IsOptional()
  @IsInstant()
  effectiveFrom?: string;

  @ApiProperty({ type: [PricingRuleFieldsDto], minItems: 1, maxItems: MAX_IMPORT_RULES })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_IMPORT_RULES)
  @ValidateNested({ each: true })
  @Type(() => PricingRuleFieldsDto)
  rules: PricingRuleFieldsDto[];
}

const nullablePrice = (example: string | null, description: string) =>
  ApiProperty({ type: String, nullable: true, example, description });

export class PricingRuleResponseDto {
  @ApiProperty({ example: '8a6f0c1e-2b3d-4e5f-9a0b-1c2d3e4f5a6b', format: 'uuid' })
  id: string;

  @ApiProperty({ example: 'anthropic.claude-3-haiku-20240307-v1:0' })
  modelId: string;

  @ApiProperty({ example: '0.2500' })
  pricePer1kTokens: string;

  @nullablePrice(null, 'null: output tokens cost pricePer1kTokens')
  outputPricePer1kTokens: string | null;

  @nullablePrice(null, 'null: cache-read tokens cost pricePer1kTokens')
  cacheReadPricePer1kTokens: string | null;

  @nullablePrice(null, 'null: cache-write tokens cost pricePer1kTokens')
  cacheWritePricePer1kTokens: string | null;

  @nullablePrice(null, 'null: reasoning tokens cost the output price')
  reasoningPricePer1kTokens: string | null;

  @ApiInteger({ nullable: true, example: null, description: 'null: no long-context tier' })
  longContextThreshold: number | null;

  @nullablePrice(null, 'Input price above longContextThreshold (null without a tier)')
  longContextPricePer1kTokens: string | null;

  @nullablePrice(null, 'Output price above longContextThreshold (null without a tier)')
  longContextOutputPricePer1kTokens: string | null;

  @nullablePrice('0.0030', 'The provider’s cost of input tokens (providerCost.input)')
  providerCostPer1kTokens: string | null;

  @ApiProperty({
    type: 'object',
    nullable: true,
    properties: Object.fromEntries(TOKEN_KINDS.map((kind) => [kind, { type: 'string' }])),
    required: [...TOKEN_KINDS],
    example: { input: '3.0000', output: '15.0000', cacheRead: '0.3000', cacheWrite: '3.7500', reasoning: '15.0000' },
    description: 'The provider’s cost per 1,000 tokens of each kind, defaults applied; null: no provider cost',
  })
  providerCost: Record<TokenKind, string> | null;

  @ServiceTiersAnswer()
  serviceTiers: ServiceTiers | null;

  @UnitPricesAnswer()
  unitPrices: UnitPrices | null;

  @VolumeAnswer()
  volume: VolumeSteps | null;

  @ApiInteger({ nullable: true, example: null, description: 'The gateway’s output bound (null: the default)' })
  maxOutputTokens: number | null;

  @ApiInteger({ nullable: true, example: null, description: 'The model’s context window (null: none known)' })
  contextWindow: number | null;

  @ApiProperty({ example: '2026-12-01T00:00:00.000Z' })
  effectiveFrom: string;

  @ApiProperty({ type: String, nullable: true, example: null })
  effectiveTo: string | null;

  @ApiProperty({ example: 'system' })
  createdBy: string;

  @ApiProperty({ example: '2026-11-21T12:00:00.000Z' })
  createdAt: string;
}

export class ListPricesQueryDto {
  @ApiPropertyOptional({
    example: false,
    default: false,
    description:
      'true: the rules that take effect later instead of those in effect now (every such rule, soonest first, then by model)',
  })
  @IsOptional()
  @Transform(toBoolean)
  @IsBoolean()
  upcoming?: boolean;
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

export class ImportPricingResponseDto {
  @ApiProperty({ example: '2026-12-01T00:00:00.000Z' })
  effectiveFrom: string;

  @ApiInteger({ example: 2, description: 'Rules written' })
  created: number;

  @ApiInteger({
    example: 1,
    description: 'Rules whose model’s open rule already had exactly these prices: nothing written (a re-import)',
  })
  unchanged: number;

  @ApiProperty({
    type: [PricingRuleResponseDto],
    description: 'The rule in effect for each model of the sheet, in order',
  })
  items: PricingRuleResponseDto[];
}

@ApiExtraModels(PriceSourceDto)
export class ModelPriceResponseDto {
  @ApiProperty({ example: 'anthropic.claude-3-haiku-20240307-v1:0' })
  modelId: string;

  @ApiProperty({ example: '0.2500' })
  pricePer1kTokens: string;

  @ApiProperty({ example: '0.2500', description: 'Price of output tokens (pricePer1kTokens unless the rule sets one)' })
  outputPricePer1kTokens: string;

  @ApiProperty({ example: '0.2500', description: 'Price of cache-read tokens (the rule’s, else pricePer1kTokens)' })
  cacheReadPricePer1kTokens: string;

  @ApiProperty({ example: '0.2500', description: 'Price of cache-write tokens (the rule’s, else pricePer1kTokens)' })
  cacheWritePricePer1kTokens: string;

  @ApiProperty({ example: '0.2500', description: 'Price of reasoning tokens (the rule’s, else the output price)' })
  reasoningPricePer1kTokens: string;

  @ApiInteger({ nullable: true, example: null })
  longContextThreshold: number | null;

  @ApiProperty({ type: String, nullable: true, example: null })
  longContextPricePer1kTokens: string | null;

  @ApiProperty({ type: String, nullable: true, example: null })
  longContextOutputPricePer1kTokens: string | null;

  @ApiProperty({ type: String, nullable: true, example: null })
  providerCostPer1kTokens: string | null;

  @ServiceTiersAnswer()
  serviceTiers: ServiceTiers | null;

  @UnitPricesAnswer()
  unitPrices: UnitPrices | null;

  @VolumeAnswer()
  volume: VolumeSteps | null;

  @ApiProperty({ type: String, nullable: true, example: '8a6f0c1e-2b3d-4e5f-9a0b-1c2d3e4f5a6b' })
  pricingRuleId: string | null;

  @ApiProperty({
    enum: PRICE_ORIGINS,
    example: 'rule',
    description: 'What priced it: an operator rule, the price catalogue (priceSource names the entry) or the default',
  })
  source: (typeof PRICE_ORIGINS)[number];

  @PriceSourceAnswer()
  priceSource: PriceSourceDto | null;

  @ApiProperty({ type: String, nullable: true, example: '2024-01-01T00:00:00.000Z' })
  effectiveFrom: string | null;

  @ApiProperty({ type: String, nullable: true, example: null })
  effectiveTo: string | null;
}
