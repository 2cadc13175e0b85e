import { DomainError } from '../common/errors/domain-error.js';
import { type AuthUser, type Role, roleSatisfies } from './roles.js';

/**
 * The one rule for another user's data: callers always reach their own; another user's needs at
 * least `role` (supervisor to read credits, usage and sessions; admin for API keys), through a JWT
 * (an API key acts as its owner with role `user`, so it never reaches another user's data).
 */
export function mayAccessUser(caller: AuthUser, userId: string | undefined, role: Role = 'supervisor'): boolean {
  return userId === caller.userId || (caller.via === 'jwt' && roleSatisfies(caller.role, role));
}

/** `mayAccessUser` or a 403 that says who may. */
export function assertMayAccessUser(
  caller: AuthUser,
  userId: string | undefined,
  what: string,
  role: Role = 'supervisor',
) {
  if (!mayAccessUser(caller, userId, role)) {
    const who = role === 'admin' ? 'admins' : 'supervisors and admins';
    throw new DomainError('FORBIDDEN', `Only ${who} may read another user's ${what}`);
  }
}

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
} as const;
