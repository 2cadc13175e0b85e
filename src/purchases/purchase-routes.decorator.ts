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
import { domainErrorExample, type NamedExamples } from '../common/errors/error-examples.js';
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

/** The operation of a service change; its description, if any, follows SERVICE_ONLY. */
interface ServiceOperation {
  operationId: string;
  summary: string;
  description?: string;
}

/** The 409 of a change the purchase's state does not allow. */
interface StateRefusal {
  description: string;
  examples: NamedExamples;
}

/**
 * A change the payment platform reports on the purchase `:id` names (service principals): 200 with
 * its new state, 400 for a bad body, 404 for an unknown purchase, 409 when its state refuses it.
 */
export const ServicePurchaseChange = (path: string, operation: ServiceOperation, refusal: StateRefusal) =>
  applyDecorators(
    IdempotentPost(path),
    HttpCode(200),
    Auth('user', { scope: 'usage:ingest' }),
    ApiOperation({
      ...operation,
      description: operation.description ? `${SERVICE_ONLY} ${operation.description}` : SERVICE_ONLY,
    }),
    PurchaseById(),
    ApiOkResponse({ type: PurchaseResponseDto }),
    ApiBadRequestResponse({ description: 'Invalid body', type: ErrorResponseDto }),
    ApiConflictResponse({ ...refusal, type: ErrorResponseDto }),
  );

/** A route that closes a pending purchase unpaid (`fail`, `expire`): the same rule, body and answers. */
export const ClosePurchaseRoute = (path: string, operationId: string, summary: string) =>
  applyDecorators(
    ServicePurchaseChange(
      path,
      { operationId, summary },
      {
        description: 'The purchase is not pending payment',
        examples: {
          notPending: domainErrorExample(
            'PURCHASE_NOT_PENDING',
            'The purchase is paid, not pending_payment',
            'A paid purchase',
          ),
        },
      },
    ),
    ApiBody({
      type: ClosePurchaseDto,
      required: false,
      examples: {
        withReason: { summary: 'Say why', value: { reason: 'card_declined' } },
        bare: { summary: 'No reason', value: {} },
      },
    }),
  );
