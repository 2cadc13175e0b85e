import { Body, Controller, Get, Inject, Param, Query } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBody,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiPayloadTooLargeResponse,
  ApiTags,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';

import { Auth, CurrentUser } from '../auth/auth.decorator.js';
import type { AuthUser } from '../auth/roles.js';
import { plainErrorExample, unknownModelExample } from '../common/errors/error-examples.js';
import { ErrorResponseDto, UnprocessableResponseDto } from '../common/errors/error-response.dto.js';
import { DeferredBodyInterceptor } from '../common/http/deferred-body.interceptor.js';
import { toDate } from '../common/validation/dates.js';
import { IdempotentPost } from '../idempotency/idempotent-post.decorator.js';
import {
  CreatePricingRuleDto,
  ImportPricingDto,
  ImportPricingResponseDto,
  ListPricesQueryDto,
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
  @Auth('user', { scope: 'pricing:read', portal: 'any' })
  @ApiOperation({
    operationId: 'listCurrentPrices',
    summary: 'The rules in effect now, one per model; with upcoming=true, the rules that take effect later',
  })
  @ApiOkResponse({ type: PricingRuleListResponseDto })
  async current(@Query() query: ListPricesQueryDto): Promise<PricingRuleListResponseDto> {
    return { items: await (query.upcoming ? this.pricing.upcoming() : this.pricing.current()), nextCursor: null };
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
  @Auth('user', { scope: 'pricing:read', portal: 'any' })
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
      cachedAnthropic: {
        summary: 'An Anthropic model with prompt caching (cache writes 1.25 ×, reads 0.1 × input)',
        value: {
          modelId: 'anthropic.claude-sonnet-4-5',
          pricePer1kTokens: '3',
          outputPricePer1kTokens: '15',
          cacheWritePricePer1kTokens: '3.75',
          cacheReadPricePer1kTokens: '0.3',
          providerCost: { input: '2.4', output: '12', cacheWrite: '3', cacheRead: '0.24' },
        },
      },
      openAiReasoning: {
        summary: 'An OpenAI reasoning model: cached prompt tokens at a quarter, reasoning at the output price',
        value: {
          modelId: 'openai.o4-mini',
          pricePer1kTokens: '1.1',
          outputPricePer1kTokens: '4.4',
          cacheReadPricePer1kTokens: '0.275',
        },
      },
      longContext: {
        summary: 'A long-context tier: prompts above 200,000 tokens cost more',
        value: {
          modelId: 'google.gemini-2.5-pro',
          pricePer1kTokens: '1.25',
          outputPricePer1kTokens: '10',
          longContextThreshold: 200000,
          longContextPricePer1kTokens: '2.5',
          longContextOutputPricePer1kTokens: '15',
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
    description:
      'Invalid body (price with more than 4 decimals, effectiveTo ≤ effectiveFrom, a long-context tier without its prices...)',
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
    const { effectiveFrom, effectiveTo, ...fields } = body;
    return this.pricing.create({
      fields,
      effectiveFrom: effectiveFrom ? toDate(effectiveFrom) : undefined,
      effectiveTo: effectiveTo ? toDate(effectiveTo) : undefined,
      createdBy: user.userId,
    });
  }

  @IdempotentPost('import', { readsBody: DeferredBodyInterceptor })
  @Auth('admin')
  @ApiPayloadTooLargeResponse({
    description: 'Body over BATCH_BODY_LIMIT (default 2 MB: a sheet of 500 rules with every price fits)',
    type: ErrorResponseDto,
  })
  @ApiOperation({
    operationId: 'importPricing',
    summary: 'Load a price sheet: every rule from the same instant, all or none (admin)',
    description:
      'Each model’s open rule is closed at `effectiveFrom` (default now) and the sheet’s rule starts there, in ONE ' +
      'transaction: one invalid rule → 400 naming it, nothing written. A rule whose model’s open rule already has ' +
      'exactly its prices writes nothing (`unchanged`), so loading the same sheet twice changes nothing.',
  })
  @ApiBody({
    type: ImportPricingDto,
    examples: {
      sheet: {
        summary: 'Two models from the first of the month',
        value: {
          effectiveFrom: '2099-01-01T00:00:00.000Z',
          rules: [
            {
              modelId: 'anthropic.claude-sonnet-4-5',
              pricePer1kTokens: '3',
              outputPricePer1kTokens: '15',
              cacheWritePricePer1kTokens: '3.75',
              cacheReadPricePer1kTokens: '0.3',
              longContextThreshold: 200000,
              longContextPricePer1kTokens: '6',
              longContextOutputPricePer1kTokens: '22.5',
            },
            { modelId: 'openai.o4-mini', pricePer1kTokens: '1.1', outputPricePer1kTokens: '4.4' },
          ],
        },
      },
    },
  })
  @ApiCreatedResponse({ type: ImportPricingResponseDto })
  @ApiBadRequestResponse({
    description: 'A rule is invalid (the message names it: `rules[3] (model)` or `rules.3.…`); nothing written',
    type: ErrorResponseDto,
  })
  @ApiConflictResponse({
    description: 'A rule would overlap a later rule of its model; nothing written',
    type: ErrorResponseDto,
    examples: {
      overlap: plainErrorExample(409, 'Conflicts with an existing record', 'Overlaps another rule of the model'),
    },
  })
  async import(@CurrentUser() user: AuthUser, @Body() body: ImportPricingDto): Promise<ImportPricingResponseDto> {
    return this.pricing.import({
      rules: body.rules,
      effectiveFrom: body.effectiveFrom ? toDate(body.effectiveFrom) : undefined,
      createdBy: user.userId,
    });
  }
}
