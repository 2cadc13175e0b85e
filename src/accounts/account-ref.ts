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

/**
 * An account's label in an answer, as a SQL expression over a row's org id (null: none) and user id
 * columns: `user:<id>`, `org:<id>` (the simulations' `account` group names its rows so, and the console
 * reads the label back to scope a simulation to that account). A name shown, never a key a lookup
 * reads: below the edge an account is its id (docs/architecture.md "How the structure is counted").
 */
export const accountLabelSql = (orgIdExpr: string, userIdExpr: string): string =>
  `CASE WHEN ${orgIdExpr} IS NULL THEN 'user:' || ${userIdExpr} ELSE 'org:' || ${orgIdExpr} END`;
