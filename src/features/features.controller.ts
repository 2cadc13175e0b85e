import { Body, Controller, Get, Param, Patch, Query } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBody,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
} from '@nestjs/swagger';

import { Auth } from '../auth/auth.decorator.js';
import { domainErrorExample } from '../common/errors/error-examples.js';
import { ErrorResponseDto } from '../common/errors/error-response.dto.js';
import { ApiNotFoundOf } from '../common/errors/not-found.decorator.js';
import { IdempotentPost } from '../idempotency/idempotent-post.decorator.js';
import {
  CreateFeatureDto,
  FeatureListResponseDto,
  FeatureResponseDto,
  ListFeaturesQueryDto,
  UpdateFeatureDto,
} from './dto/features.dto.js';
import { FeaturesService } from './features.service.js';

@ApiTags('features')
@Controller('api/features')
export class FeaturesController {
  constructor(private readonly features: FeaturesService) {}

  @IdempotentPost()
  @Auth('admin')
  @ApiOperation({
    operationId: 'createFeature',
    summary: 'Create a feature: a switch, a metered allowance or a setting that plans grant (admin)',
  })
  @ApiBody({
    type: CreateFeatureDto,
    examples: {
      metered: {
        summary: 'Image generations, counted',
        value: { featureKey: 'image.generations', name: 'Image generations', type: 'metered' },
      },
      boolean: {
        summary: 'Web search, on or off',
        value: { featureKey: 'web_search', name: 'Web search', type: 'boolean' },
      },
      config: {
        summary: 'The context window, a setting',
        value: { featureKey: 'context.window', name: 'Context window', type: 'config' },
      },
    },
  })
  @ApiCreatedResponse({ type: FeatureResponseDto })
  @ApiBadRequestResponse({
    description: 'Invalid body (a key outside a-z 0-9 _ . -, an unknown type…)',
    type: ErrorResponseDto,
  })
  @ApiConflictResponse({
    description: 'A feature with this key exists',
    type: ErrorResponseDto,
    examples: {
      exists: domainErrorExample('FEATURE_EXISTS', 'Feature image.generations already exists', 'The key is taken'),
    },
  })
  create(@Body() body: CreateFeatureDto): Promise<FeatureResponseDto> {
    return this.features.create(body);
  }

  @Get()
  @Auth('user', { scope: 'any', portal: 'any' })
  @ApiOperation({ operationId: 'listFeatures', summary: 'The features, by key' })
  @ApiOkResponse({ type: FeatureListResponseDto })
  @ApiBadRequestResponse({ description: 'Invalid limit or cursor', type: ErrorResponseDto })
  list(@Query() query: ListFeaturesQueryDto): Promise<FeatureListResponseDto> {
    return this.features.list(query);
  }

  @Patch(':featureKey')
  @Auth('admin')
  @ApiOperation({ operationId: 'updateFeature', summary: 'Rename a feature (its key and type stay) (admin)' })
  @ApiParam({ name: 'featureKey', example: 'image.generations' })
  @ApiBody({
    type: UpdateFeatureDto,
    examples: { rename: { summary: 'A clearer name', value: { name: 'Image generations (HD)' } } },
  })
  @ApiOkResponse({ type: FeatureResponseDto })
  @ApiBadRequestResponse({ description: 'Invalid body', type: ErrorResponseDto })
  @ApiNotFoundOf('Feature', 'Unknown feature')
  update(@Param('featureKey') featureKey: string, @Body() body: UpdateFeatureDto): Promise<FeatureResponseDto> {
    return this.features.rename(featureKey, body.name);
  }
}
