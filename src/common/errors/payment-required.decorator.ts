import { applyDecorators } from '@nestjs/common';
import { ApiExtraModels, ApiPaymentRequiredResponse, getSchemaPath } from '@nestjs/swagger';

import {
  InsufficientCreditsResponseDto,
  KeyLimitExceededResponseDto,
  MemberLimitExceededResponseDto,
} from './error-response.dto.js';

/**
 * The 402 of a route that spends credits: the balance is short (INSUFFICIENT_CREDITS), or the API
 * key the request came with would exceed its credit limit for the period (KEY_LIMIT_EXCEEDED), or an
 * organisation member's spend limit would be exceeded (MEMBER_LIMIT_EXCEEDED).
 */
export function ApiSpendRefusedResponse(outcome: string) {
  return applyDecorators(
    ApiExtraModels(InsufficientCreditsResponseDto, KeyLimitExceededResponseDto, MemberLimitExceededResponseDto),
    ApiPaymentRequiredResponse({
      description:
        `Not enough credits (INSUFFICIENT_CREDITS), or the API key's credit limit for its period would be exceeded ` +
        `(KEY_LIMIT_EXCEEDED), or, paying from an organisation, the member's spend limit for its period ` +
        `(MEMBER_LIMIT_EXCEEDED); ${outcome}`,
      schema: {
        anyOf: [
          { $ref: getSchemaPath(InsufficientCreditsResponseDto) },
          { $ref: getSchemaPath(KeyLimitExceededResponseDto) },
          { $ref: getSchemaPath(MemberLimitExceededResponseDto) },
        ],
      },
      examples: {
        insufficient: {
          summary: 'The balance is short',
          value: {
            statusCode: 402,
            message: 'Insufficient credits',
            error: 'Payment Required',
            code: 'INSUFFICIENT_CREDITS',
            requiredCredits: 120,
            availableCredits: 40,
          },
        },
        keyLimit: {
          summary: "The API key's budget is spent",
          value: {
            statusCode: 402,
            message: 'This API key’s credit limit for the period would be exceeded',
            error: 'Payment Required',
            code: 'KEY_LIMIT_EXCEEDED',
            requiredCredits: 5,
          },
        },
        memberLimit: {
          summary: "The organisation member's spend limit is reached",
          value: {
            statusCode: 402,
            message: 'Your spend limit in this organisation for the period would be exceeded',
            error: 'Payment Required',
            code: 'MEMBER_LIMIT_EXCEEDED',
            requiredCredits: 5,
            limit: 500,
            spentInPeriod: 498,
            resetsAt: '2026-12-01T00:00:00.000Z',
          },
        },
      },
    }),
  );
}
