import { applyDecorators, type Type } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiPaymentRequiredResponse,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';

import { ErrorResponseDto, InsufficientCreditsResponseDto } from './error-response.dto.js';

/**
 * The OpenAPI answers of a POST that takes credits (record usage, open a streaming session): 201 with
 * `created`, else 400, 402 (the balance is short, nothing written), 409 or 422, each described in the
 * route's own words.
 */
export function ApiCreditChargeResponses(
  created: Type<unknown>,
  errors: { badRequest: string; paymentRequired: string; conflict: string; unprocessable: string },
): MethodDecorator {
  return applyDecorators(
    ApiCreatedResponse({ type: created }),
    ApiBadRequestResponse({ type: ErrorResponseDto, description: errors.badRequest }),
    ApiPaymentRequiredResponse({ type: InsufficientCreditsResponseDto, description: errors.paymentRequired }),
    ApiConflictResponse({ type: ErrorResponseDto, description: errors.conflict }),
    ApiUnprocessableEntityResponse({ type: ErrorResponseDto, description: errors.unprocessable }),
  );
}
