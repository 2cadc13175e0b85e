import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsNotEmpty,
  IsString,
  Matches,
  MaxLength,
  ValidateIf,
} from 'class-validator';

import { IsInstant } from '../../common/validation/dates.js';
import { ExactlyOneOf } from '../../common/validation/exclusive.js';
import { IsOptional } from '../../common/validation/optional.js';
import { PricingRuleResponseDto } from './pricing.dto.js';

const PROVIDER = /^[a-z0-9][a-z0-9._-]{0,49}$/;
export const MAX_CATALOG_IMPORT = 500;

export class CatalogQueryDto {
  @ApiPropertyOptional({ example: 'anthropic', description: 'Only this catalogue provider’s models' })
  @IsOptional()
  @IsString()
  @Matches(PROVIDER, { message: 'provider must be a catalogue provider id (a-z 0-9 . _ -, at most 50)' })
  provider?: string;

  @ApiPropertyOptional({ example: 'sonnet', description: 'Only models whose id or name contains this (any case)' })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  q?: string;
}

export class CatalogPricesDto {
  @ApiProperty({ example: '3.0000', description: 'Credits per 1k input tokens' })
  input: string;

  @ApiProperty({ example: '15.0000', description: 'Credits per 1k output tokens (reasoning tokens too)' })
  output: string;

  @ApiProperty({ type: String, nullable: true, example: '0.3000', description: 'null: the input price' })
  cacheRead: string | null;

  @ApiProperty({ type: String, nullable: true, example: '3.7500', description: 'null: the input price' })
  cacheWrite: string | null;

  @ApiProperty({
    type: 'integer',
    nullable: true,
    example: 200000,
    description: 'Prompt tokens above which the long-context prices apply',
  })
  longContextThreshold: number | null;

  @ApiProperty({ type: String, nullable: true, example: '6.0000' })
  longContextInput: string | null;

  @ApiProperty({ type: String, nullable: true, example: '22.5000' })
  longContextOutput: string | null;
}

export class CatalogModelDto {
  @ApiProperty({ example: 'anthropic' })
  provider: string;

  @ApiProperty({
    example: 'claude-sonnet-4-5',
    description: 'The catalogue’s model id (a rule imported from it has this id)',
  })
  model: string;

  @ApiProperty({ type: String, nullable: true, example: 'Claude Sonnet 4.5' })
  name: string | null;

  @ApiProperty({ type: CatalogPricesDto, description: 'Credits per 1k tokens of each kind, in force now' })
  prices: CatalogPricesDto;

  @ApiProperty({
    type: 'integer',
    nullable: true,
    example: 200000,
    description: 'The context window in tokens (null: unknown)',
  })
  contextWindow: number | null;

  @ApiProperty({ example: '0.1.8', description: 'The catalogue version the prices come from' })
  version: string;

  @ApiProperty({ example: '1970-01-01T00:00:00.000Z', description: 'When these prices took effect here' })
  effectiveFrom: string;

  @ApiProperty({
    type: String,
    nullable: true,
    example: null,
    description:
      'The operator rule in force now for this model id, which prices it instead (null: the catalogue prices it)',
  })
  overriddenBy: string | null;
}

export class CatalogListResponseDto {
  @ApiProperty({
    example: '0.1.8',
    nullable: true,
    type: String,
    description: 'The catalogue version in force now (null: catalogue off)',
  })
  version: string | null;

  @ApiProperty({ example: ['openai', 'anthropic'], type: [String], description: 'PRICE_CATALOG_PROVIDERS, in order' })
  providers: string[];

  @ApiProperty({ type: 'integer', example: 1000, description: 'CREDITS_PER_USD' })
  creditsPerUsd: number;

  @ApiProperty({ example: '0', description: 'PRICE_MARKUP_PERCENT' })
  markupPercent: string;

  @ApiProperty({ type: [CatalogModelDto] })
  items: CatalogModelDto[];
}

export class ImportCatalogDto {
  @ApiPropertyOptional({
    example: ['claude-sonnet-4-5', 'gpt-5'],
    type: [String],
    description: 'Catalogue model ids to make rules of (give this or provider)',
  })
  @ValidateIf((o: ImportCatalogDto, v) => v !== undefined || o.provider === undefined)
  @ExactlyOneOf('provider')
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_CATALOG_IMPORT)
  @IsString({ each: true })
  @IsNotEmpty({ each: true })
  @MaxLength(200, { each: true })
  models?: string[];

  @ApiPropertyOptional({
    example: 'anthropic',
    description: 'Every model of this catalogue provider (give this or models)',
  })
  @IsOptional()
  @IsString()
  @Matches(PROVIDER, { message: 'provider must be a catalogue provider id (a-z 0-9 . _ -, at most 50)' })
  provider?: string;

  @ApiPropertyOptional({ example: '2099-01-01T00:00:00.000Z', description: 'When the rules take effect (default now)' })
  @IsOptional()
  @IsInstant()
  effectiveFrom?: string;
}

export class ImportCatalogResponseDto {
  @ApiProperty({ example: '2099-01-01T00:00:00.000Z' })
  effectiveFrom: string;

  @ApiProperty({ type: 'integer', example: 2 })
  created: number;

  @ApiProperty({ type: 'integer', example: 0 })
  unchanged: number;

  @ApiProperty({ type: [PricingRuleResponseDto] })
  items: PricingRuleResponseDto[];
}
