import type { ResolvedAccount } from '../auth/account-access.js';

/**
 * The account a row or a charge names (an organisation's or, without one, its user's) as the resolved
 * account names it: its kind and its owner's id.
 */
export const accountNamed = (orgId: string | null, userId: string): Pick<ResolvedAccount, 'kind' | 'ownerId'> =>
  orgId ? { kind: 'org', ownerId: orgId } : { kind: 'user', ownerId: userId };

/**
 * The account a charge names, with the member who spends: an organisation's used by its member
 * `userId`, else `userId`'s own (no member).
 */
export const chargedAccount = (
  orgId: string | null,
  userId: string,
): Pick<ResolvedAccount, 'kind' | 'ownerId' | 'memberId'> =>
  orgId ? { kind: 'org', ownerId: orgId, memberId: userId } : { kind: 'user', ownerId: userId, memberId: null };

/** The user a charged account bills: the member who spends an organisation's, else its owner. */
export const billedUser = (account: Pick<ResolvedAccount, 'ownerId' | 'memberId'>): string =>
  account.memberId ?? account.ownerId;

/** The organisation a charged account is (null: a user's own). */
export const payingOrgOf = (account: Pick<ResolvedAccount, 'kind' | 'ownerId'>): string | null =>
  account.kind === 'org' ? account.ownerId : null;

/** accountKey() of an account by its kind and its owner's id (`user:<id>`, `org:<id>`). */
export const kindKey = (account: Pick<ResolvedAccount, 'kind' | 'ownerId'>): string =>
  `${account.kind}:${account.ownerId}`;

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
