import { Body, Controller, Get, Inject, Query } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBody,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';

import { Auth, CurrentUser } from '../../auth/auth.decorator.js';
import type { AuthUser } from '../../auth/roles.js';
import { plainErrorExample } from '../../common/errors/error-examples.js';
import { ErrorResponseDto } from '../../common/errors/error-response.dto.js';
import { toDate } from '../../common/validation/dates.js';
import { IdempotentPost } from '../../idempotency/idempotent-post.decorator.js';
import {
  CatalogListResponseDto,
  CatalogQueryDto,
  ImportCatalogDto,
  ImportCatalogResponseDto,
} from '../dto/catalog.dto.js';
import { CatalogService } from './catalog.service.js';

/** The price catalogue's routes (docs/pricing.md "The price catalogue"); before PricingController's `:modelId`. */
@ApiTags('pricing')
@Controller('api/pricing/catalog')
export class CatalogController {
  constructor(@Inject(CatalogService) private readonly catalog: CatalogService) {}

  @Get()
  @Auth('supervisor')
  @ApiOperation({
    operationId: 'listPriceCatalog',
    summary: 'The price catalogue’s models at their credit prices now (supervisor)',
    description:
      'The models of the providers in PRICE_CATALOG_PROVIDERS (or of `provider`), whose id or name contains `q`: ' +
      'credits per 1k tokens of each kind (USD × CREDITS_PER_USD plus PRICE_MARKUP_PERCENT), context window, ' +
      'catalogue version, and the operator rule that prices the model id instead (`overriddenBy`).',
  })
  @ApiOkResponse({ type: CatalogListResponseDto })
  list(@Query() query: CatalogQueryDto): Promise<CatalogListResponseDto> {
    return this.catalog.list(query);
  }

  @IdempotentPost('import')
  @Auth('admin')
  @ApiOperation({
    operationId: 'importPriceCatalog',
    summary: 'Make ordinary rules of catalogue models (admin)',
    description:
      'The named catalogue models (`models`) or every model of `provider`, each as a rule under its catalogue id at ' +
      'its credit prices now, from `effectiveFrom` (default now): a price sheet, all or none, audit ' +
      '`pricing.catalog.import`. A model whose open rule already has exactly these prices writes nothing.',
  })
  @ApiBody({
    type: ImportCatalogDto,
    examples: {
      models: { summary: 'One catalogue model as a rule, from now', value: { models: ['gpt-4.1-nano'] } },
    },
  })
  @ApiCreatedResponse({ type: ImportCatalogResponseDto })
  @ApiBadRequestResponse({
    description: 'Neither or both of models and provider, a model not in the catalogue, a past effectiveFrom',
    type: ErrorResponseDto,
    examples: {
      missing: plainErrorExample(400, 'Not in the catalogue: no-such-model', 'A model not in the catalogue'),
    },
  })
  @ApiConflictResponse({
    description: 'A rule would overlap a later rule of its model; nothing written',
    type: ErrorResponseDto,
  })
  import(@CurrentUser() user: AuthUser, @Body() body: ImportCatalogDto): Promise<ImportCatalogResponseDto> {
    return this.catalog.import({
      models: body.models,
      provider: body.provider,
      effectiveFrom: body.effectiveFrom ? toDate(body.effectiveFrom) : undefined,
      createdBy: user.userId,
    });
  }
}
