import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

import { ApiInteger, ApiIntegerOptional } from '../validation/integers.js';

export class ErrorResponseDto {
  @ApiInteger({ example: 400 })
  statusCode: number;

  @ApiProperty({
    oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }],
    example: ['credits must not be less than 0'],
    description: 'A sentence, or for validation errors one sentence per problem',
  })
  message: string | string[];

  @ApiProperty({ example: 'Bad Request', description: 'The HTTP reason phrase of statusCode' })
  error: string;

  @ApiPropertyOptional({
    example: 'VALIDATION',
    description: 'Machine-readable error code (docs/errors.md); absent on errors raised before a route runs',
  })
  code?: string;

  @ApiPropertyOptional({ example: '3f1c8b8e-5a43-4c55-9d59-8d3f6b1b1e55', description: 'Correlates with the logs' })
  requestId?: string;
}

export class InsufficientCreditsResponseDto extends ErrorResponseDto {
  @ApiInteger({ example: 120 })
  requiredCredits: number;

  @ApiInteger({ example: 40 })
  availableCredits: number;
}

/** 402 with `code: "KEY_LIMIT_EXCEEDED"`: the API key's budget for its period would be exceeded. */
export class KeyLimitExceededResponseDto extends ErrorResponseDto {
  @ApiInteger({ example: 5, description: 'Credits the refused request needed' })
  requiredCredits: number;
}

/** 402 with `code: "MEMBER_LIMIT_EXCEEDED"`: the org member's spend limit for its period would be exceeded. */
export class MemberLimitExceededResponseDto extends ErrorResponseDto {
  @ApiInteger({ example: 5, description: 'Credits the refused request needed' })
  requiredCredits: number;

  @ApiInteger({ example: 500, description: "The member's spend limit in credits" })
  limit: number;

  @ApiInteger({
    example: 498,
    description: 'What the member spent from the org in the current period of the limit, open holds included',
  })
  spentInPeriod: number;

  @ApiProperty({ example: '2026-12-01T00:00:00.000Z', description: 'When the period ends (UTC)' })
  resetsAt: string;
}

/** 409 of finalize and abort: ALREADY_SETTLED names the session and how it was settled. */
export class SettlementConflictResponseDto extends ErrorResponseDto {
  @ApiPropertyOptional({ example: 'chat-7f3c2a9e-1b4d-4c1e-9f8a-2d6b5e4c3a21', description: 'With ALREADY_SETTLED' })
  sessionId?: string;

  @ApiPropertyOptional({
    enum: ['completed', 'failed', 'aborted', 'expired'],
    example: 'completed',
    description: 'With ALREADY_SETTLED: how the session was settled',
  })
  status?: 'completed' | 'failed' | 'aborted' | 'expired';
}

/** 422: PRICING_UNKNOWN_MODEL names the model, CORRECTION_ID_REUSED the correction. */
export class UnprocessableResponseDto extends ErrorResponseDto {
  @ApiPropertyOptional({ example: 'acme.unpriced-model', description: 'With PRICING_UNKNOWN_MODEL' })
  modelId?: string;

  @ApiPropertyOptional({ example: 'ticket-4711', description: 'With CORRECTION_ID_REUSED: the correction id reused' })
  correctionId?: string;
}

/** A rate FX_RATE_MISSING lacks: one currency into the reporting currency on one UTC day. */
export class FxRateMissingPairDto {
  @ApiProperty({ example: '2026-11-03', format: 'date' })
  day: string;

  @ApiProperty({ example: 'eur', description: 'The currency of the valued lines (ISO 4217, lowercase)' })
  from: string;

  @ApiProperty({ example: 'usd', description: 'The reporting currency (REPORTING_CURRENCY)' })
  to: string;
}

/**
 * 422 of a read converted into the reporting currency: FX_RATE_MISSING names the UTC days without a
 * rate, and the currency pairs each lacks.
 */
export class FxRateMissingResponseDto extends ErrorResponseDto {
  @ApiPropertyOptional({
    type: [String],
    example: ['2026-11-02', '2026-11-03'],
    description: 'With FX_RATE_MISSING: the UTC days whose valued lines have no stored rate (at most 1,000)',
  })
  days?: string[];

  @ApiPropertyOptional({
    type: [FxRateMissingPairDto],
    example: [
      { day: '2026-11-02', from: 'eur', to: 'usd' },
      { day: '2026-11-03', from: 'eur', to: 'usd' },
      { day: '2026-11-03', from: 'jpy', to: 'usd' },
    ],
    description:
      'With FX_RATE_MISSING: each of those days’ missing rates, the currency converted (`from`) into the ' +
      'reporting currency (`to`), by day then currency',
  })
  missing?: FxRateMissingPairDto[];
}

/** 403: NOT_A_MEMBER names the organisation. */
export class ForbiddenResponseDto extends ErrorResponseDto {
  @ApiPropertyOptional({
    example: 'acme',
    description: 'With NOT_A_MEMBER: the organisation the caller is not an active member of',
  })
  orgId?: string;
}

/** 409 of a refund: REFUND_EXCEEDS_REFUNDABLE says how many credits may still be refunded. */
export class RefundConflictResponseDto extends ErrorResponseDto {
  @ApiIntegerOptional({
    example: 600,
    description: 'With REFUND_EXCEEDS_REFUNDABLE: the credits still refundable',
  })
  refundableCredits?: number;
}

/** 400 of a reconciliation upload: REPORT_TOO_LARGE names the limit. */
export class ReconciliationRefusedResponseDto extends ErrorResponseDto {
  @ApiIntegerOptional({
    example: 200000,
    description: 'With REPORT_TOO_LARGE: the most rows a report may have',
  })
  maxRows?: number;
}

/** 429 or 503 that may say when to retry: `retryAfter` seconds, also sent as the Retry-After header. */
export class RetryLaterResponseDto extends ErrorResponseDto {
  @ApiIntegerOptional({
    example: 10,
    description:
      'With TOO_MANY_EXPORTS, EXPORTS_BUSY and HEAVY_READS_BUSY: seconds to wait before retrying (also the Retry-After header)',
  })
  retryAfter?: number;
}
