import { applyDecorators, createParamDecorator, type ExecutionContext, SetMetadata } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiExtension,
  ApiForbiddenResponse,
  ApiSecurity,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';

import { ErrorResponseDto } from '../common/errors/error-response.dto.js';
import type { AuthUser, Role, Scope } from './roles.js';

export const AUTH_RULE = 'accounting:auth-rule';
export const BEARER_SCHEME = 'bearer';
export const API_KEY_SCHEME = 'api-key';
/** `X-Internal-Api-Key`: service-to-service, only for POST /api/api-keys/verify. */
export const INTERNAL_API_KEY_SCHEME = 'internal-api-key';
/** OpenAPI extension naming the scope an API key needs for an operation (absent: keys refused). */
export const REQUIRED_SCOPE_EXTENSION = 'x-required-scope';

export interface AuthRule {
  public?: true;
  /** Lowest role that may call the route (user < supervisor < admin). */
  role: Role;
  /** Scope an API key needs; `any` lets every valid key in; absent: API keys are refused. */
  apiKeyScope?: Scope | 'any';
  /**
   * A metering write (record, batch, initialize, finalize, abort): under METERING_TRUST=service only
   * service principals may call it; a service key's `usage:ingest` stands for the scope.
   */
  meters?: true;
}

/** No authentication: the only way out of the global guard. */
export function Public(): MethodDecorator & ClassDecorator {
  return SetMetadata(AUTH_RULE, { public: true, role: 'user' } satisfies AuthRule);
}

/**
 * A route's whole access rule in one place: who may call it, which API-key scope it needs, and the
 * matching OpenAPI security and 401/403 documentation, so docs and enforcement cannot drift apart.
 */
export function Auth(role: Role = 'user', options: { scope?: Scope | 'any'; meters?: true } = {}) {
  const rule: AuthRule = {
    role,
    apiKeyScope: role === 'user' ? options.scope : undefined,
    ...(options.meters ? { meters: true } : {}),
  };
  const keysAllowed = rule.apiKeyScope !== undefined;
  const who = role === 'user' ? 'any authenticated caller' : `role ${role} or higher`;
  const keys = keysAllowed
    ? rule.apiKeyScope === 'any'
      ? 'API keys: any valid key.'
      : `API keys: scope \`${rule.apiKeyScope}\`.`
    : 'API keys: not accepted.';
  const metering = options.meters
    ? ' With METERING_TRUST=service (the default), only service principals (an admin token, or an API key with ' +
      '`usage:ingest`) may call it: anyone else gets `METERING_REQUIRES_SERVICE`.'
    : '';
  return applyDecorators(
    SetMetadata(AUTH_RULE, rule),
    ApiBearerAuth(BEARER_SCHEME),
    ...(keysAllowed ? [ApiSecurity(API_KEY_SCHEME), ApiExtension(REQUIRED_SCOPE_EXTENSION, rule.apiKeyScope)] : []),
    ApiUnauthorizedResponse({ description: 'Missing, invalid or expired credentials', type: ErrorResponseDto }),
    ApiForbiddenResponse({ description: `Requires ${who}. ${keys}${metering}`, type: ErrorResponseDto }),
    ApiTooManyRequestsResponse({ description: 'Rate limited; see Retry-After', type: ErrorResponseDto }),
  );
}

/** The authenticated caller (set by the global authentication guard). */
export const CurrentUser = createParamDecorator((_data: unknown, ctx: ExecutionContext): AuthUser => {
  return ctx.switchToHttp().getRequest().user as AuthUser;
});
