import {
  applyDecorators,
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  ParseUUIDPipe,
  Patch,
  Query,
} from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBadRequestResponse,
  ApiBody,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
} from '@nestjs/swagger';

import { Auth, CurrentUser } from '../auth/auth.decorator.js';
import type { AuthUser } from '../auth/roles.js';
import { StaffRead } from '../auth/staff-read.decorator.js';
import { domainErrorExample } from '../common/errors/error-examples.js';
import { ErrorResponseDto } from '../common/errors/error-response.dto.js';
import { ApiNotFoundOf } from '../common/errors/not-found.decorator.js';
import { PageQueryDto } from '../common/http/pagination.js';
import { IdempotencyRedact } from '../idempotency/idempotency-redact.decorator.js';
import { IdempotentPost } from '../idempotency/idempotent-post.decorator.js';
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
const INACTIVE = domainErrorExample(
  'WEBHOOK_INACTIVE',
  'The webhook is not active; enable it first',
  'The endpoint is paused or disabled',
);

/** A route on the endpoint the path names (`:id`): 400 for an id that is not a UUID, 404 for an unknown one. */
const WebhookById = () =>
  applyDecorators(
    ApiParam({ name: 'id', format: 'uuid', example: '0b8f3c1e-5d2a-4f7b-9e61-2c4d8a9b7f10' }),
    ApiBadRequestResponse(NOT_UUID),
    ApiNotFoundOf('Webhook', 'No such webhook'),
  );

/** Webhook endpoints (admins only): docs/webhooks.md. */
@ApiTags('webhooks')
@Controller('api/webhooks')
export class WebhooksController {
  constructor(private readonly webhooks: WebhooksService) {}

  @IdempotentPost()
  @Auth('admin')
  @IdempotencyRedact('secret')
  @ApiOperation({
    operationId: 'createWebhook',
    summary: 'Subscribe a URL to events',
    description:
      'Answers the signing secret once. Every event of the subscribed types is POSTed to the URL, signed as ' +
      'Standard Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature`), at least once.',
  })
  @ApiBody({
    type: CreateWebhookDto,
    examples: {
      alerts: {
        summary: 'Balance alerts and grants',
        value: {
          url: 'https://example.com/webhooks/accounting',
          events: ['balance.low', 'balance.depleted', 'credits.granted'],
          description: 'Billing alerts for the ops channel',
        },
      },
      everything: { summary: 'Every event', value: { url: 'https://example.com/webhooks/all', events: ['*'] } },
    },
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
  @StaffRead('admin', WebhookListResponseDto, 'listWebhooks', 'Every webhook endpoint, newest first, without secrets')
  @ApiBadRequestResponse({ description: 'Invalid query', type: ErrorResponseDto })
  list(@Query() query: PageQueryDto): Promise<WebhookListResponseDto> {
    return this.webhooks.list(query);
  }

  @Get(':id')
  @Auth('admin')
  @ApiOperation({ operationId: 'getWebhook', summary: 'One webhook endpoint, without its secret' })
  @WebhookById()
  @ApiOkResponse({ type: WebhookResponseDto })
  get(@Param('id', new ParseUUIDPipe()) id: string): Promise<WebhookResponseDto> {
    return this.webhooks.get(id);
  }

  @Patch(':id')
  @Auth('admin')
  @ApiOperation({
    operationId: 'updateWebhook',
    summary: 'Change the URL, the events, the description, or pause / re-enable the endpoint',
    description:
      '`isActive: false` pauses it (its pending deliveries fail; retry them later); `isActive: true` re-enables ' +
      'one the service disabled after 3 days of failures.',
  })
  @WebhookById()
  @ApiBody({
    type: UpdateWebhookDto,
    examples: {
      events: {
        summary: 'Subscribe to other events',
        value: { events: ['usage.needs_review', 'api_key.limit_reached'] },
      },
      pause: { summary: 'Pause the endpoint', value: { isActive: false } },
    },
  })
  @ApiOkResponse({ type: WebhookResponseDto })
  update(@Param('id', new ParseUUIDPipe()) id: string, @Body() dto: UpdateWebhookDto): Promise<WebhookResponseDto> {
    return this.webhooks.update(id, dto);
  }

  @Delete(':id')
  @Auth('admin')
  @ApiOperation({
    operationId: 'deleteWebhook',
    summary: 'Delete the endpoint and its deliveries log; nothing more is sent to it',
  })
  @WebhookById()
  @ApiOkResponse({ type: WebhookResponseDto, description: 'The endpoint as it was' })
  remove(@Param('id', new ParseUUIDPipe()) id: string): Promise<WebhookResponseDto> {
    return this.webhooks.remove(id);
  }

  @IdempotentPost(':id/rotate-secret')
  @HttpCode(200)
  @Auth('admin')
  @IdempotencyRedact('secret')
  @WebhookById()
  @ApiOperation({
    operationId: 'rotateWebhookSecret',
    summary: 'Replace the signing secret',
    description: 'Answers the new secret once. For 24 hours deliveries carry signatures with both secrets.',
  })
  @ApiOkResponse({ type: RotatedSecretResponseDto })
  rotate(@Param('id', new ParseUUIDPipe()) id: string): Promise<RotatedSecretResponseDto> {
    return this.webhooks.rotateSecret(id);
  }

  @IdempotentPost(':id/test')
  @HttpCode(202)
  @Auth('admin')
  @ApiOperation({ operationId: 'testWebhook', summary: 'Send a `webhook.test` event to this endpoint only' })
  @WebhookById()
  @ApiAcceptedResponse({ type: AcceptedTestResponseDto })
  @ApiConflictResponse({
    description: 'The endpoint is not active',
    type: ErrorResponseDto,
    examples: { inactive: INACTIVE },
  })
  test(@Param('id', new ParseUUIDPipe()) id: string): Promise<AcceptedTestResponseDto> {
    return this.webhooks.sendTest(id);
  }

  @Get(':id/deliveries')
  @Auth('admin')
  @ApiOperation({ operationId: 'listWebhookDeliveries', summary: "The endpoint's deliveries, newest first" })
  @WebhookById()
  @ApiOkResponse({ type: DeliveryListResponseDto })
  deliveries(
    @Param('id', new ParseUUIDPipe()) id: string,
    @Query() query: DeliveriesQueryDto,
  ): Promise<DeliveryListResponseDto> {
    return this.webhooks.listDeliveries(id, query);
  }

  @IdempotentPost('deliveries/:id/retry')
  @HttpCode(202)
  @Auth('admin')
  @ApiParam({ name: 'id', format: 'uuid', example: '7c1d2e3f-4a5b-4c6d-8e9f-0a1b2c3d4e5f' })
  @ApiOperation({
    operationId: 'retryWebhookDelivery',
    summary: 'Queue a delivery again (failed or succeeded)',
    description:
      'Attempted again at once, with a fresh 3-day retry window, the same webhook-id and the same body. A ' +
      'succeeded delivery is sent again too (a receiver that lost it); a pending one is queued already and ' +
      'stays as it is.',
  })
  @ApiAcceptedResponse({ type: AcceptedRetryResponseDto })
  @ApiBadRequestResponse(NOT_UUID)
  @ApiNotFoundOf('Delivery', 'No such delivery')
  @ApiConflictResponse({
    description: 'Its endpoint is not active',
    type: ErrorResponseDto,
    examples: { inactive: INACTIVE },
  })
  retry(@Param('id', new ParseUUIDPipe()) id: string): Promise<AcceptedRetryResponseDto> {
    return this.webhooks.retry(id);
  }
}
