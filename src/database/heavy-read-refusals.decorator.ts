import { applyDecorators } from '@nestjs/common';
import { ApiExtraModels, ApiServiceUnavailableResponse, ApiTooManyRequestsResponse } from '@nestjs/swagger';

import { domainErrorExample } from '../common/errors/error-examples.js';
import { RetryLaterResponseDto } from '../common/errors/error-response.dto.js';
import { HEAVY_READS_RETRY_AFTER_SECONDS } from './heavy-reads.js';

/** The refusal of a route that takes a place among the heavy reads (heavy-reads.ts) when none is free. */
export function ApiHeavyReadsBusy() {
  return applyDecorators(
    ApiExtraModels(RetryLaterResponseDto),
    ApiTooManyRequestsResponse({
      description:
        'HEAVY_READS_BUSY: HEAVY_READS_CONCURRENCY heavy reads are running on this instance; see Retry-After ' +
        '(or the caller’s rate limit)',
      type: RetryLaterResponseDto,
      examples: {
        heavyReadsBusy: domainErrorExample(
          'HEAVY_READS_BUSY',
          'Too many reports and simulations are running; please retry later',
          'Two reports are running already',
          { retryAfter: HEAVY_READS_RETRY_AFTER_SECONDS },
        ),
      },
    }),
  );
}

/** The refusals of a route whose work is a heavy read (heavy-reads.ts): the gate is full, or it ran too long. */
export function ApiHeavyReadRefusals() {
  return applyDecorators(
    ApiHeavyReadsBusy(),
    ApiServiceUnavailableResponse({
      description:
        'TIMEOUT: the read ran past HEAVY_READ_TIMEOUT_SECONDS and was cancelled in the database; or the ' +
        'database is unavailable (DATABASE_UNAVAILABLE)',
      type: RetryLaterResponseDto,
      examples: {
        timeout: domainErrorExample(
          'TIMEOUT',
          'The report took longer than 120 s and was stopped; narrow it (a shorter range, a page)',
          'Past HEAVY_READ_TIMEOUT_SECONDS',
        ),
      },
    }),
  );
}
