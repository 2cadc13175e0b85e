import type { AccountKind } from './entities/account.entity.js';

/** The column of `accounts` that holds each kind of owner (its unique index is the lookup). */
const OWNER_COLUMN: Record<AccountKind, string> = { user: 'user_id', org: 'org_id' };

/**
 * The accounts of a list's owners, as a JOIN clause: `accounts` as `alias`, `alias.account_id` the
 * account of the row's owner `ownerExpr` (null: none), by the owner's unique key. A list of users or
 * organisations with their balances names owners, not accounts (its rows are the owners): this join is
 * where their accounts are found, the accounts module's read at the edge of the list. Every other
 * statement reads the account id its row carries (a usage record, a session, a hold) or the one the
 * edge resolved. `kind` only picks one of two fixed column names.
 */
export const withAccountSql = (ownerExpr: string, kind: AccountKind, alias: string): string =>
  `LEFT JOIN accounts ${alias} ON ${alias}.${OWNER_COLUMN[kind]} = ${ownerExpr}`;
