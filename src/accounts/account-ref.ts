import type { AccountKind } from './entities/account.entity.js';

/**
 * An account as callers name it: its kind and its owner's id (a user id, an org id). User ids and org
 * ids may be equal without meaning the same account, so the kind always goes with the id. The engine
 * takes the account id (`accounts.account_id`) only: a statement resolves the owner to it at the edge,
 * in the statement that calls the engine (docs/money.md "The account lock").
 */
export interface AccountRef {
  kind: AccountKind;
  id: string;
}

export const userAccount = (userId: string): AccountRef => ({ kind: 'user', id: userId });
export const orgAccount = (orgId: string): AccountRef => ({ kind: 'org', id: orgId });

/**
 * The account as the API names it in bodies and answers (the public shape): a user's `{userId}` or an
 * organisation's `{orgId}`.
 */
export type PublicAccount = { userId: string } | { orgId: string };

export const publicAccount = (ref: AccountRef): PublicAccount =>
  ref.kind === 'user' ? { userId: ref.id } : { orgId: ref.id };

/** The account of a row or a charge that names an organisation or, without one, its user. */
export const ownerAccount = (orgId: string | null, userId: string): AccountRef =>
  orgId === null ? userAccount(userId) : orgAccount(orgId);

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
