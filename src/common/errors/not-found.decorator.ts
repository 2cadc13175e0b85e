import { ApiNotFoundResponse } from '@nestjs/swagger';

import { type NamedExamples, notFoundExample } from './error-examples.js';
import { ErrorResponseDto } from './error-response.dto.js';

/**
 * The 404 of a route that names something unknown (or that the caller may not see): the
 * NOT_FOUND body of `what`, with any further examples the route answers under the same status.
 */
export function ApiNotFoundOf(what: string, description: string, more: NamedExamples = {}): MethodDecorator {
  return ApiNotFoundResponse({ description, type: ErrorResponseDto, examples: { ...notFoundExample(what), ...more } });
}
