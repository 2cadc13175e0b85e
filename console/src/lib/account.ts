/** The account a credit command names: a user's or an organisation's (the API's `{userId}` or `{orgId}`). */
export type Account = { userId: string; orgId?: undefined } | { orgId: string; userId?: undefined };

/** How an account reads in a sentence ("user alice", "org acme"). */
export function accountName(ref: { userId?: string; orgId?: string }): string {
  return ref.orgId !== undefined ? `org ${ref.orgId}` : `user ${ref.userId}`;
}

/** The API's `{userId}` or `{orgId}`, with nothing else in it. */
export function accountRef(account: Account): { userId: string } | { orgId: string } {
  return account.orgId !== undefined ? { orgId: account.orgId } : { userId: account.userId };
}
