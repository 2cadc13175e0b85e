/**
 * An account as the API's answers and stored bodies name it: a user's `{userId}` or an organisation's
 * `{orgId}` (a transfer's sides, a finance list's accounts, a re-rate's stored request, the audit
 * entries that spell an account out). User ids and org ids may be equal without meaning the same
 * account, so the field says the kind. An answer's shape only: past the edge an account is the
 * resolved one (ResolvedAccount, src/auth/account-access.ts), or its kind and owner.
 */
export type AccountView = { userId: string; orgId?: never } | { orgId: string; userId?: never };

/** The answer naming the account of a kind and its owner's id (an account row's `kind` and owner column). */
export const accountView = (kind: 'user' | 'org', ownerId: string): AccountView =>
  kind === 'org' ? { orgId: ownerId } : { userId: ownerId };
