import { applyDecorators } from '@nestjs/common';
import { ApiParam } from '@nestjs/swagger';

import { ApiNotFoundOf } from '../common/errors/not-found.decorator.js';
import { Auth } from './auth.decorator.js';
import type { Role } from './roles.js';

/**
 * A staff route on the user the path names (`:userId`): the account rule lets `role` and above
 * reach any user, and an unknown user is a 404.
 */
export const StaffUserRoute = (role: Role) =>
  applyDecorators(
    Auth(role, { account: { user: 'staff' } }),
    ApiParam({ name: 'userId', example: 'alice' }),
    ApiNotFoundOf('User', 'Unknown user'),
  );
