/** A member's role in an organisation (stored here, not in the JWT). */
export const ORG_ROLES = ['owner', 'admin', 'billing', 'member'] as const;
export type OrgRole = (typeof ORG_ROLES)[number];

/** The period of a member's spend limit: UTC calendar day, ISO week (from Monday), month. */
export const SPEND_LIMIT_PERIODS = ['day', 'week', 'month'] as const;
export type SpendLimitPeriod = (typeof SPEND_LIMIT_PERIODS)[number];

/** Org managers: may add, change and remove members. */
export const isOrgManager = (role: OrgRole | null | undefined): boolean => role === 'owner' || role === 'admin';

/** Org readers: may read the org's money, members and usage. */
export const isOrgReader = (role: OrgRole | null | undefined): boolean =>
  role === 'owner' || role === 'admin' || role === 'billing';
