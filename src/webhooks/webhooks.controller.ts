import { Body, Controller, Delete, Get, HttpCode, Param, ParseUUIDPipe, Patch, Post, Query } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';

import { Auth, CurrentUser } from '../auth/auth.decorator.js';
import type { AuthUser } from '../auth/roles.js';
import { ErrorResponseDto } from '../common/errors/error-response.dto.js';
import { PageQueryDto } from '../common/http/pagination.js';
import { IdempotencyRedact } from '../idempotency/idempotency-redact.decorator.js';
import {
  AcceptedRetryResponseDto,
  AcceptedTestResponseDto,
  CreatedWebhookResponseDto,
  CreateWebhookDto,
  DeliveriesQueryDto,
  DeliveryListResponseDto,
  RotatedSecretResponseDto,
  UpdateWebhookDto,
  WebhookListResponseDto,
  WebhookResponseDto,
} from './dto/webhooks.dto.js';
import { WebhooksService } from './webhooks.service.js';

const NOT_UUID = { description: 'Invalid body or query, or the id is not a UUID', type: ErrorResponseDto };
const UNKNOWN = { description: 'No such webhook', type: ErrorResponseDto };

/** Webhook endpoints (admins only): docs/webhooks.md. */
@ApiTags('webhooks')
@Controller('api/webhooks')
export class WebhooksController {
  constructor(private readonly webhooks: WebhooksService) {}

  @Post()
  @Auth('admin')
  @IdempotencyRedact('secret')
  @ApiOperation({
    summary: 'Subscribe a URL to events',
    description:
      'Answers the signing secret once. Every event of the subscribed types is POSTed to the URL, signed as ' +
      'Standard Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature`), at least once.',
  })
  @ApiCreatedResponse({ type: CreatedWebhookResponseDto })
  @ApiBadRequestResponse({
    description: 'Invalid body; a URL that is not https, has credentials or does not resolve to public addresses',
    type: ErrorResponseDto,
  })
  create(@CurrentUser() user: AuthUser, @Body() dto: CreateWebhookDto): Promise<CreatedWebhookResponseDto> {
    return this.webhooks.create(user, dto);
  }

  @Get()
  @Auth('admin')
  @ApiOperation({ summary: 'Every webhook endpoint, newest first, without secrets' })
  @ApiOkResponse({ type: WebhookListResponseDto })
  @ApiBadRequestResponse({ description: 'Invalid query', type: ErrorResponseDto })
  list(@Query() query: PageQueryDto): Promise<WebhookListResponseDto> {
    return this.webhooks.list(query);
  }

  @Get(':id')
  @Auth('admin')
  @ApiOperation({ summary: 'One webhook endpoint, without its secret' })
  @ApiOkResponse({ type: WebhookResponseDto })
  @ApiBadRequestResponse(NOT_UUID)
  @ApiNotFoundResponse(UNKNOWN)
  get(@Param('id', new ParseUUIDPipe()) id: string): Promise<WebhookResponseDto> {
    return this.webhooks.get(id);
  }

  @Patch(':id')
  @Auth('admin')
  @ApiOperation({
    summary: 'Change the URL, the events, the description, or pause / re-enable the endpoint',
    description:
      '`isActive: false` pauses it (its pending deliveries fail; retry them later); `isActive: true` re-enables ' +
      'one the service disabled after 3 days of failures.',
  })
  @ApiOkResponse({ type: WebhookResponseDto })
  @ApiBadRequestResponse(NOT_UUID)
  @ApiNotFoundResponse(UNKNOWN)
  update(@Param('id', new ParseUUIDPipe()) id: string, @Body() dto: UpdateWebhookDto): Promise<WebhookResponseDto> {
    return this.webhooks.update(id, dto);
  }

  @Delete(':id')
  @Auth('admin')
  @ApiOperation({ summary: 'Delete the endpoint and its deliveries log; nothing more is sent to it' })
  @ApiOkResponse({ type: WebhookResponseDto, description: 'The endpoint as it was' })
  @ApiBadRequestResponse(NOT_UUID)
  @ApiNotFoundResponse(UNKNOWN)
  remove(@Param('id', new ParseUUIDPipe()) id: string): Promise<WebhookResponseDto> {
    return this.webhooks.remove(id);
  }

  @Post(':id/rotate-secret')
  @HttpCode(200)
  @Auth('admin')
  @IdempotencyRedact('secret')
  @ApiOperation({
    summary: 'Replace the signing secret',
    description: 'Answers the new secret once. For 24 hours deliveries carry signatures with both secrets.',
  })
  @ApiOkResponse({ type: RotatedSecretResponseDto })
  @ApiBadRequestResponse(NOT_UUID)
  @ApiNotFoundResponse(UNKNOWN)
  rotate(@Param('id', new ParseUUIDPipe()) id: string): Promise<RotatedSecretResponseDto> {
    return this.webhooks.rotateSecret(id);
  }

  @Post(':id/test')
  @HttpCode(202)
  @Auth('admin')
  @ApiOperation({ summary: 'Send a `webhook.test` event to this endpoint only' })
  @ApiAcceptedResponse({ type: AcceptedTestResponseDto })
  @ApiBadRequestResponse(NOT_UUID)
  @ApiNotFoundResponse(UNKNOWN)
  @ApiConflictResponse({ description: 'The endpoint is not active', type: ErrorResponseDto })
  test(@Param('id', new ParseUUIDPipe()) id: string): Promise<AcceptedTestResponseDto> {
    return this.webhooks.sendTest(id);
  }

  @Get(':id/deliveries')
  @Auth('admin')
  @ApiOperation({ summary: "The endpoint's deliveries, newest first" })
  @ApiOkResponse({ type: DeliveryListResponseDto })
  @ApiBadRequestResponse(NOT_UUID)
  @ApiNotFoundResponse(UNKNOWN)
  deliveries(
    @Param('id', new ParseUUIDPipe()) id: string,
    @Query() query: DeliveriesQueryDto,
  ): Promise<DeliveryListResponseDto> {
    return this.webhooks.listDeliveries(id, query);
  }

  @Post('deliveries/:id/retry')
  @HttpCode(202)
  @Auth('admin')
  @ApiOperation({
    summary: 'Queue a failed delivery again',
    description: 'Attempted again at once, with a fresh 3-day retry window and the same webhook-id.',
  })
  @ApiAcceptedResponse({ type: AcceptedRetryResponseDto })
  @ApiBadRequestResponse(NOT_UUID)
  @ApiNotFoundResponse({ description: 'No such delivery', type: ErrorResponseDto })
  @ApiConflictResponse({
    description: 'The delivery is not failed, or its endpoint is not active',
    type: ErrorResponseDto,
  })
  retry(@Param('id', new ParseUUIDPipe()) id: string): Promise<AcceptedRetryResponseDto> {
    return this.webhooks.retry(id);
  }
}
