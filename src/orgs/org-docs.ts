import { applyDecorators } from '@nestjs/common';
import { ApiForbiddenResponse, ApiNotFoundResponse, ApiParam } from '@nestjs/swagger';

import { commonErrorExamples, domainErrorExample, type NamedExamples } from '../common/errors/error-examples.js';
import { ErrorResponseDto } from '../common/errors/error-response.dto.js';

/** The org routes' shared OpenAPI parts: the path's orgId and the answers of the access rule (src/auth/account-access.ts). */
export const ORG_NOT_FOUND: NamedExamples = {
  notFound: domainErrorExample(
    'NOT_FOUND',
    'Org not found',
    'Unknown org, or one the caller is not an active member of (staff see every org)',
  ),
};

/** A member whose org role is too low for the route (their own view they may always read). */
export function orgRoleExamples(action: string, who: 'readers' | 'managers' = 'readers'): NamedExamples {
  const text =
    who === 'readers'
      ? "the organisation's owners, admins and billing members"
      : "the organisation's owners and admins";
  return {
    ...commonErrorExamples(403, { post: false }),
    orgRole: domainErrorExample('FORBIDDEN', `Only ${text} may ${action}`, `A member whose org role is too low`),
  };
}

/** The orgId path parameter and the 404 every org route answers for an org the caller may not see. */
export function OrgRoute(extra404: NamedExamples = {}) {
  return applyDecorators(
    ApiParam({ name: 'orgId', type: String, example: 'acme' }),
    ApiNotFoundResponse({
      description: 'Unknown org, or the caller is not an active member of it',
      type: ErrorResponseDto,
      examples: { ...ORG_NOT_FOUND, ...extra404 },
    }),
  );
}

/** 403 for members below the route's org role, with the API-key refusal every JWT-only route answers. */
export function OrgRoleForbidden(action: string, who: 'readers' | 'managers' = 'readers', more: NamedExamples = {}) {
  return ApiForbiddenResponse({
    description: `A member below the org role the route needs; API keys are not accepted`,
    type: ErrorResponseDto,
    examples: { ...orgRoleExamples(action, who), ...more },
  });
}
