/** A member's role in an organisation (stored in org_members, not in the JWT). */
export const ORG_ROLES = ['owner', 'admin', 'billing', 'member'] as const;
export type OrgRole = (typeof ORG_ROLES)[number];

/** Org managers: may add, change and remove members. */
export const isOrgManager = (role: OrgRole | null | undefined): boolean => role === 'owner' || role === 'admin';

/** Org readers: may read the org's money, members and usage. */
export const isOrgReader = (role: OrgRole | null | undefined): boolean =>
  role === 'owner' || role === 'admin' || role === 'billing';
