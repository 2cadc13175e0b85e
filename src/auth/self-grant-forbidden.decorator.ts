import { ApiForbiddenResponse } from '@nestjs/swagger';

import { ErrorResponseDto } from '../common/errors/error-response.dto.js';
import { SELF_GRANT_DESCRIPTION, SELF_GRANT_MESSAGES, selfGrantForbiddenExamples } from './access.js';

/** The 403 of a supervisor route that refuses the caller's own account (assertNotOwnGrant). */
export const ApiSelfGrantForbidden = (what: keyof typeof SELF_GRANT_MESSAGES): MethodDecorator =>
  ApiForbiddenResponse({
    description: SELF_GRANT_DESCRIPTION,
    type: ErrorResponseDto,
    examples: selfGrantForbiddenExamples(what),
  });
