import { DomainError } from '../common/errors/domain-error.js';
import { commonErrorExamples, domainErrorExample, type NamedExamples } from '../common/errors/error-examples.js';
import { type AuthUser, roleSatisfies } from './roles.js';

/**
 * Separation of duties: below admin, nobody grants credits to or changes the plan of their own
 * account (a supervisor could otherwise pay themself). Admins may.
 */
export function assertNotOwnGrant(caller: AuthUser, userId: string, what: keyof typeof SELF_GRANT_MESSAGES): void {
  if (caller.userId !== userId || roleSatisfies(caller.role, 'admin')) return;
  throw new DomainError('SELF_GRANT_FORBIDDEN', SELF_GRANT_MESSAGES[what]);
}

/** The SELF_GRANT_FORBIDDEN messages (also the OpenAPI examples'). */
export const SELF_GRANT_MESSAGES = {
  credits: 'Supervisors may not allocate credits to their own account',
  subscription: 'Supervisors may not change their own subscription',
  transfer: 'Supervisors may not transfer credits into their own account',
  transferToOrg: 'Supervisors may not transfer credits into an organisation they are a member of',
  correction: 'Supervisors may not correct a record of their own account downward',
  override: 'Supervisors may not set a feature override for their own account',
} as const;

/**
 * Separation of duties for organisations: below admin, an active member of the org (any role:
 * `role` is theirs, null when not a member) may not grant to it or change its plan.
 */
export function assertNotOwnOrgGrant(
  caller: AuthUser,
  role: string | null,
  what: keyof typeof SELF_GRANT_MESSAGES,
): void {
  if (role === null || roleSatisfies(caller.role, 'admin')) return;
  throw new DomainError('SELF_GRANT_FORBIDDEN', ORG_SELF_GRANT_MESSAGES[what]);
}

/** The SELF_GRANT_FORBIDDEN messages for an organisation the supervisor is a member of. */
export const ORG_SELF_GRANT_MESSAGES: Record<keyof typeof SELF_GRANT_MESSAGES, string> = {
  credits: 'Supervisors may not allocate credits to an organisation they are a member of',
  subscription: 'Supervisors may not change the subscription of an organisation they are a member of',
  transfer: 'Supervisors may not transfer credits into an organisation they are a member of',
  transferToOrg: 'Supervisors may not transfer credits into an organisation they are a member of',
  correction: 'Supervisors may not correct a record of an organisation they are a member of downward',
  override: 'Supervisors may not set a feature override for an organisation they are a member of',
};

/**
 * The 403s of a supervisor route that refuses the caller's own account (separation of duties), with
 * the role and API-key refusals its @Auth documents: a route's own 403 examples replace the common
 * ones (document-rules.ts), so they are repeated here.
 */
export function selfGrantForbiddenExamples(what: keyof typeof SELF_GRANT_MESSAGES): NamedExamples {
  return {
    ...commonErrorExamples(403, { post: false, role: 'supervisor' }),
    selfGrant: domainErrorExample(
      'SELF_GRANT_FORBIDDEN',
      SELF_GRANT_MESSAGES[what],
      'A supervisor naming their own account (admins may)',
    ),
  };
}

export const SELF_GRANT_DESCRIPTION =
  'A supervisor naming their own account: `code` SELF_GRANT_FORBIDDEN, nothing written (separation of ' +
  'duties; admins may)';
