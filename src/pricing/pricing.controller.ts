import { Body, Controller, Get, Inject, Param } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBody,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';

import { Auth, CurrentUser } from '../auth/auth.decorator.js';
import type { AuthUser } from '../auth/roles.js';
import { plainErrorExample, unknownModelExample } from '../common/errors/error-examples.js';
import { ErrorResponseDto, UnprocessableResponseDto } from '../common/errors/error-response.dto.js';
import { toDate } from '../common/validation/dates.js';
import { IdempotentPost } from '../idempotency/idempotent-post.decorator.js';
import {
  CreatePricingRuleDto,
  ModelPriceResponseDto,
  PricingRuleListResponseDto,
  PricingRuleResponseDto,
} from './dto/pricing.dto.js';
import { PricingService } from './pricing.service.js';

const MODEL_PARAM = { name: 'modelId', example: 'anthropic.claude-3-haiku-20240307-v1:0' };

@ApiTags('pricing')
@Controller('api/pricing')
export class PricingController {
  constructor(@Inject(PricingService) private readonly pricing: PricingService) {}

  @Get()
  @Auth('user', { scope: 'pricing:read' })
  @ApiOperation({ operationId: 'listCurrentPrices', summary: 'The rules in effect now, one per model' })
  @ApiOkResponse({ type: PricingRuleListResponseDto })
  async current(): Promise<PricingRuleListResponseDto> {
    return { items: await this.pricing.current(), nextCursor: null };
  }

  @Get(':modelId/history')
  @Auth('supervisor')
  @ApiOperation({ operationId: 'getPricingHistory', summary: 'Every rule of a model, newest first (supervisor)' })
  @ApiParam(MODEL_PARAM)
  @ApiOkResponse({ type: PricingRuleListResponseDto })
  async history(@Param('modelId') modelId: string): Promise<PricingRuleListResponseDto> {
    return { items: await this.pricing.history(modelId), nextCursor: null };
  }

  @Get(':modelId')
  @Auth('user', { scope: 'pricing:read' })
  @ApiOperation({
    operationId: 'getModelPrice',
    summary: 'A model’s price now: its rule, or the default price (source "default")',
  })
  @ApiParam(MODEL_PARAM)
  @ApiOkResponse({ type: ModelPriceResponseDto })
  @ApiUnprocessableEntityResponse({
    description: 'Unknown model while PRICING_STRICT=true',
    type: UnprocessableResponseDto,
    examples: unknownModelExample,
  })
  price(@Param('modelId') modelId: string): Promise<ModelPriceResponseDto> {
    return this.pricing.priceAt(modelId);
  }

  @IdempotentPost()
  @Auth('admin')
  @ApiOperation({
    operationId: 'createPricingRule',
    summary: 'Add a pricing rule (admin)',
    description: 'The model’s open rule is closed at the new effectiveFrom, in the same transaction.',
  })
  @ApiBody({
    type: CreatePricingRuleDto,
    examples: {
      fromNow: {
        summary: 'A price from now on (closes the model’s open rule)',
        value: {
          modelId: 'acme.example-chat-v1',
          pricePer1kTokens: '0.2500',
          outputPricePer1kTokens: '1.2500',
          providerCostPer1kTokens: '0.0030',
        },
      },
      window: {
        summary: 'A price for a fixed window',
        value: {
          modelId: 'acme.example-chat-v1',
          pricePer1kTokens: '0.2000',
          effectiveFrom: '2099-01-01T00:00:00.000Z',
          effectiveTo: '2099-07-01T00:00:00.000Z',
        },
      },
    },
  })
  @ApiCreatedResponse({ type: PricingRuleResponseDto })
  @ApiBadRequestResponse({
    description: 'Invalid body (price with more than 4 decimals, effectiveTo ≤ effectiveFrom...)',
    type: ErrorResponseDto,
  })
  @ApiConflictResponse({
    description: 'The rule would overlap another rule of the model',
    type: ErrorResponseDto,
    examples: {
      overlap: plainErrorExample(409, 'Conflicts with an existing record', 'Overlaps another rule of the model'),
    },
  })
  create(@CurrentUser() user: AuthUser, @Body() body: CreatePricingRuleDto): Promise<PricingRuleResponseDto> {
    return this.pricing.create({
      modelId: body.modelId,
      pricePer1kTokens: body.pricePer1kTokens,
      outputPricePer1kTokens: body.outputPricePer1kTokens ?? null,
      providerCostPer1kTokens: body.providerCostPer1kTokens ?? null,
      effectiveFrom: body.effectiveFrom ? toDate(body.effectiveFrom) : undefined,
      effectiveTo: body.effectiveTo ? toDate(body.effectiveTo) : undefined,
      createdBy: user.userId,
    });
  }
}
