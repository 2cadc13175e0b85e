import type { PublicAccount } from '../auth/account-access.js';

/** The account of a row or a charge that names an organisation or, without one, its user. */
export const ownerAccount = (orgId: string | null, userId: string): PublicAccount =>
  orgId === null ? { userId } : { orgId };

/**
 * The key naming an account in a map or a cache (`user:<id>`, `org:<id>`): the organisation's when the
 * party names one (it pays for its members), else the user's. User ids and org ids may be equal, so
 * the kind is part of the key.
 */
export const accountKey = (party: { userId: string; orgId?: string | null }): string =>
  party.orgId ? `org:${party.orgId}` : `user:${party.userId}`;

/** accountKey() as a SQL expression over a row's org id (null: none) and user id columns. */
export const accountKeySql = (orgIdExpr: string, userIdExpr: string): string =>
  `CASE WHEN ${orgIdExpr} IS NULL THEN 'user:' || ${userIdExpr} ELSE 'org:' || ${orgIdExpr} END`;

/** accountKey() of an organisation's account as a SQL expression over its org id column. */
export const orgKeySql = (orgIdExpr: string): string => `'org:' || ${orgIdExpr}`;
