import type { AccountKind } from './entities/account.entity.js';

/** The column of `accounts` that holds each kind of owner (its unique index is the lookup). */
const OWNER_COLUMN: Record<AccountKind, string> = { user: 'user_id', org: 'org_id' };

/**
 * The account id of an owner as a SQL expression, for a statement that must name accounts by their
 * owners' rows (a list of users or orgs with their balances, a locked streaming session): the one index
 * lookup. Everywhere else AccountIds (account-ids.ts) gives the id before the statement. `ownerExpr`
 * is a column or a parameter; `kind` only picks one of two fixed column names.
 */
export const accountIdOfSql = (ownerExpr: string, kind: AccountKind): string =>
  `(SELECT account_id FROM accounts WHERE ${OWNER_COLUMN[kind]} = ${ownerExpr})`;

/** The account that pays for a row naming an organisation (null: none) and a user: the org's, else the user's. */
export const payingAccountIdSql = (orgIdExpr: string, userIdExpr: string): string =>
  `CASE WHEN ${orgIdExpr} IS NULL THEN ${accountIdOfSql(userIdExpr, 'user')} ELSE ${accountIdOfSql(orgIdExpr, 'org')} END`;
