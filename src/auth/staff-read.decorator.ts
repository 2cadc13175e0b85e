import { applyDecorators, type Type } from '@nestjs/common';
import { ApiOkResponse, ApiOperation } from '@nestjs/swagger';

import { Auth } from './auth.decorator.js';
import type { Role } from './roles.js';

/**
 * A staff read that names no account (every org, the review queue, the system's stats): `role` and
 * above, answering `ok`. Listed last to first: applyDecorators applies them in order, a stack from
 * its last line up, so the document is the one the stack written out made.
 */
export const StaffRead = (
  role: Role,
  ok: Type<unknown>,
  operationId: string,
  summary: string,
  description?: string,
): MethodDecorator =>
  applyDecorators(ApiOkResponse({ type: ok }), ApiOperation({ operationId, summary, description }), Auth(role));
