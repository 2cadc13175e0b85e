import { ApiExtraModels, ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, Max, Min, ValidateIf } from 'class-validator';

import { MAX_CREDITS, MAX_TOKENS } from '../../common/validation/amounts.js';
import { FlatBody } from '../../common/validation/body-validation.pipe.js';
import { NotTogetherWith } from '../../common/validation/exclusive.js';
import { IsModelId, IsOrgId, IsUserId } from '../../common/validation/ids.js';
import { ApiInteger, ApiIntegerOptional } from '../../common/validation/integers.js';
import { IsOptional } from '../../common/validation/optional.js';
import type { Units } from '../../pricing/dimensions.js';
import { ServiceTierField, UnitsField } from '../../pricing/dto/dimensions.dto.js';
import { PRICE_ORIGINS, PriceSourceAnswer, PriceSourceDto } from '../../pricing/dto/price-source.dto.js';
import { KIND_DOCS, TokenCount } from '../../pricing/dto/token-kinds.dto.js';
import { hasKinds } from '../../pricing/token-counts.js';
import { TOKEN_FIELDS } from '../../pricing/token-kinds.js';

/** `tokens` refuses every kind's count beside it. */
function NotTogetherWithKinds() {
  return (object: object, propertyName: string) => {
    // In the order stacked decorators registered them (the last one first).
    for (const field of [...TOKEN_FIELDS].reverse()) NotTogetherWith(field)(object, propertyName);
  };
}

@FlatBody()
export class CheckCreditsDto {
  @ApiInteger({
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

  @ApiInteger({ example: 25 })
  requiredCredits: number;

  @ApiInteger({
    example: 1500,
    description:
      'Credits that can be spent now: unexpired allocations (holds excluded) plus what the overdraft still covers',
  })
  availableCredits: number;
}

export class CalculateCreditsDto {
  @ApiProperty({ example: 'anthropic.claude-3-haiku-20240307-v1:0', maxLength: 100 })
  @IsModelId()
  modelId: string;

  @ApiIntegerOptional({
    example: 12000,
    minimum: 0,
    maximum: MAX_TOKENS,
    description: 'Token count priced at pricePer1kTokens; required unless inputTokens/outputTokens are given',
  })
  @ValidateIf((o: CalculateCreditsDto) => o.tokens !== undefined || (!hasKinds(o) && o.units === undefined))
  @IsInt()
  @Min(0)
  @Max(MAX_TOKENS)
  @NotTogetherWithKinds()
  tokens?: number;

  @ApiIntegerOptional({
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

  @ApiIntegerOptional({
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

  @TokenCount(20000, KIND_DOCS.cacheRead)
  cacheReadTokens?: number;

  @TokenCount(0, KIND_DOCS.cacheWrite)
  cacheWriteTokens?: number;

  @TokenCount(0, KIND_DOCS.reasoning)
  reasoningTokens?: number;

  @ServiceTierField()
  serviceTier?: string;

  @UnitsField()
  units?: Units;

  @ApiPropertyOptional({
    example: 'user-123',
    description:
      'Price for this user’s account (staff: any; others: only their own, else 404): its account price and model lists apply',
  })
  @IsOptional()
  @IsUserId()
  userId?: string;

  @ApiPropertyOptional({
    example: 'acme',
    description:
      'Price for this organisation’s account (staff: any; others: an org they are an active member of, else 404)',
  })
  @IsOptional()
  @IsOrgId()
  @NotTogetherWith('userId')
  orgId?: string;
}

@ApiExtraModels(PriceSourceDto)
export class CalculateCreditsResponseDto {
  @ApiProperty({ example: 'anthropic.claude-3-haiku-20240307-v1:0' })
  modelId: string;

  @ApiInteger({ example: 12000, description: 'Total tokens priced (every kind when split)' })
  tokens: number;

  @ApiInteger({ example: 3, description: 'ceil(Σ tokens of each kind × its price / 1000), exact' })
  credits: number;

  @ApiProperty({ example: '0.2500', description: 'The input price applied (the long-context one above the threshold)' })
  pricePer1kTokens: string;

  @ApiProperty({
    example: '0.2500',
    description: 'The output price applied (the long-context one above the threshold)',
  })
  outputPricePer1kTokens: string;

  @ApiProperty({
    enum: PRICE_ORIGINS,
    example: 'rule',
    description: 'What priced it: an operator rule, the price catalogue (priceSource names the entry) or the default',
  })
  source: (typeof PRICE_ORIGINS)[number];

  @PriceSourceAnswer()
  priceSource: PriceSourceDto | null;

  @ApiProperty({
    example: true,
    description:
      'Whether the account may meter the model: every list in force allows it (the calling API key’s, the paying ' +
      'org’s, the plan’s); a write of it would be refused with 403 MODEL_NOT_ENTITLED',
  })
  entitled: boolean;

  @ApiProperty({
    type: String,
    format: 'uuid',
    nullable: true,
    example: null,
    description: 'The account price applied over the rule (null: none)',
  })
  accountPriceId: string | null;

  @ApiProperty({
    type: String,
    nullable: true,
    example: null,
    description: 'The account price’s discount ("12.50"); the prices shown are the rule’s, before it',
  })
  discountPercent: string | null;

  @ApiInteger({
    nullable: true,
    example: null,
    description:
      'On a rule with volume steps: the step (from 0) the account’s period total would reach with these tokens, ' +
      'whose price `credits` is (what a record would be charged now); null: no steps',
  })
  volumeStep: number | null;
}
