import { isOrgManager, isOrgReader, type OrgRole } from '../accounts/org-roles.js';
import { type AuthUser, roleSatisfies } from '../auth/roles.js';
import { DomainError, NotFoundError } from '../common/errors/domain-error.js';

/**
 * Who may do what with an organisation (docs/orgs.md "Roles and who may do what"): staff (supervisors and admins,
 * by JWT) everything the org routes allow; members by their org role. A caller who is not an active
 * member gets 404, exactly as for an org that does not exist: org ids are not probed through the
 * API (docs/errors.md, `NOT_FOUND`: another user's object the caller may not see is a 404). A
 * member whose role is too low gets 403 FORBIDDEN: they know the org exists.
 */
export type OrgNeed = 'member' | 'reader' | 'manager';

export const isStaff = (caller: AuthUser): boolean => caller.via === 'jwt' && roleSatisfies(caller.role, 'supervisor');

const NEED_TEXT: Record<Exclude<OrgNeed, 'member'>, string> = {
  reader: "the organisation's owners, admins and billing members",
  manager: "the organisation's owners and admins",
};

/** The caller's standing in the org: staff, or their active role (null: neither). */
export interface OrgStanding {
  staff: boolean;
  role: OrgRole | null;
}

/** Throws unless the standing meets `need`: 404 for outsiders, 403 for members below it. */
export function assertOrgAccess(standing: OrgStanding, need: OrgNeed, what: string): void {
  if (standing.staff) return;
  if (standing.role === null) throw new NotFoundError('Org');
  if (need === 'member') return;
  if (need === 'reader' ? isOrgReader(standing.role) : isOrgManager(standing.role)) return;
  throw new DomainError('FORBIDDEN', `Only ${NEED_TEXT[need]} may ${what}`);
}
