import { applyDecorators, HttpCode } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBody,
  ApiConflictResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
} from '@nestjs/swagger';

import { Auth } from '../auth/auth.decorator.js';
import { domainErrorExample } from '../common/errors/error-examples.js';
import { ErrorResponseDto } from '../common/errors/error-response.dto.js';
import { ApiNotFoundOf } from '../common/errors/not-found.decorator.js';
import { IdempotentPost } from '../idempotency/idempotent-post.decorator.js';
import { ClosePurchaseDto, PurchaseResponseDto } from './dto/purchases.dto.js';

/** Said by every route the payment platform calls: the service principals are the only callers. */
export const SERVICE_ONLY =
  'Service principals only (an admin token, or an API key with `usage:ingest`): anyone else gets 403 FORBIDDEN.';

/** A route on the purchase the path names (`:id`): 404 for an unknown purchase or one the caller may not see. */
export const PurchaseById = () =>
  applyDecorators(
    ApiParam({ name: 'id', format: 'uuid', example: '7e0b6c1a-3f52-4d8e-9a61-2c4b5d6e7f80' }),
    ApiNotFoundOf('Purchase', 'Unknown purchase (or one the caller may not see)'),
  );

/**
 * A change the payment platform reports on the purchase `:id` names (service principals): 200 with
 * its new state, 400 for a bad body, 404 for an unknown purchase. `more` follows SERVICE_ONLY in
 * the description.
 */
export const ServicePurchaseChange = (path: string, operationId: string, summary: string, more?: string) =>
  applyDecorators(
    IdempotentPost(path),
    HttpCode(200),
    Auth('user', { scope: 'usage:ingest' }),
    ApiOperation({ operationId, summary, description: more ? `${SERVICE_ONLY} ${more}` : SERVICE_ONLY }),
    PurchaseById(),
    ApiOkResponse({ type: PurchaseResponseDto }),
    ApiBadRequestResponse({ description: 'Invalid body', type: ErrorResponseDto }),
  );

/** A route that closes a pending purchase unpaid (`fail`, `expire`): the same rule, body and answers. */
export const ClosePurchaseRoute = (path: string, operationId: string, summary: string) =>
  applyDecorators(
    ServicePurchaseChange(path, operationId, summary),
    ApiBody({
      type: ClosePurchaseDto,
      required: false,
      examples: {
        withReason: { summary: 'Say why', value: { reason: 'card_declined' } },
        bare: { summary: 'No reason', value: {} },
      },
    }),
    ApiConflictResponse({
      description: 'The purchase is not pending payment',
      type: ErrorResponseDto,
      examples: {
        notPending: domainErrorExample(
          'PURCHASE_NOT_PENDING',
          'The purchase is paid, not pending_payment',
          'A paid purchase',
        ),
      },
    }),
  );
