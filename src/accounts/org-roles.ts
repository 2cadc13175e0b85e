export { isOrgManager, isOrgReader, ORG_ROLES, type OrgRole } from '../auth/org-roles.js';

/** The period of a member's spend limit: UTC calendar day, ISO week (from Monday), month. */
export const SPEND_LIMIT_PERIODS = ['day', 'week', 'month'] as const;
export type SpendLimitPeriod = (typeof SPEND_LIMIT_PERIODS)[number];
