import { applyDecorators } from '@nestjs/common';
import { ApiExtraModels, ApiServiceUnavailableResponse, ApiTooManyRequestsResponse } from '@nestjs/swagger';

import { domainErrorExample } from '../../common/errors/error-examples.js';
import { RetryLaterResponseDto } from '../../common/errors/error-response.dto.js';
import { EXPORTS_PER_USER } from '../usage-records.service.js';

/**
 * The refusals of a route that streams a CSV export: the caller's export slots, the exports' pool.
 * `when` says which requests export (the deprecated list route: with format=csv only).
 */
export function ApiCsvExportRefusals(when = '') {
  return applyDecorators(
    ApiExtraModels(RetryLaterResponseDto),
    ApiTooManyRequestsResponse({
      description: `${when}TOO_MANY_EXPORTS: the caller already has ${EXPORTS_PER_USER} exports streaming; see Retry-After`,
      type: RetryLaterResponseDto,
      examples: {
        tooManyExports: domainErrorExample(
          'TOO_MANY_EXPORTS',
          `At most ${EXPORTS_PER_USER} CSV exports per user at a time; retry when one has finished`,
          `A third export while ${EXPORTS_PER_USER} are streaming`,
          { retryAfter: 10 },
        ),
      },
    }),
    ApiServiceUnavailableResponse({
      description:
        'The database is unavailable (DATABASE_UNAVAILABLE: nothing changed; retry), or ' +
        `${when}EXPORTS_BUSY: every export connection (EXPORT_POOL_SIZE) stayed in use for 5 s; see Retry-After`,
      type: RetryLaterResponseDto,
      examples: {
        exportsBusy: domainErrorExample(
          'EXPORTS_BUSY',
          'Too many CSV exports are running; please retry later',
          'Every export connection is in use',
          { retryAfter: 10 },
        ),
      },
    }),
  );
}
