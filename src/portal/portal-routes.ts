/**
 * What a portal token may call: the account's reads, the pricing and package reads, the user's own
 * API keys and promotion redemptions. Everything else answers 403 (fail closed: a new route stays
 * out until it is listed here). Keys are Express route paths as Nest registers them.
 *
 * `reach` says which account a route reads, so the guard can hold the token to its one account:
 * - `any`: no account (the caller, prices, packages; API keys are the user's whatever the session);
 * - `user`: the user's own account (`userId` in the query may name only them); an org session → 404;
 * - `org`: the org in the path, which must be the session's org; a user session → 404;
 * - `account`: names its account in the query (`userId` or `orgId`), which must be the session's.
 * `body` names a write whose body may name an org (`orgId`): it must be the session's org, or absent
 * in a user session (else 403, as for a write naming an account the caller may not act for).
 * `write` marks what changes something (`POST /api/credits/check` and `/calculate` only read).
 */
export type PortalReach = 'any' | 'user' | 'org' | 'account';

export interface PortalRoute {
  reach: PortalReach;
  bodyOrg?: true;
  /** A write: a `read` session (what the embeddable elements hold) may not call it (403). */
  write?: true;
}

export const PORTAL_ROUTES: Readonly<Record<string, PortalRoute>> = {
  'GET /api/portal/session': { reach: 'any' },
  'GET /api/users/me': { reach: 'any' },
  'GET /api/pricing': { reach: 'any' },
  'GET /api/pricing/:modelId': { reach: 'any' },
  'POST /api/credits/calculate': { reach: 'any' },
  'GET /api/packages': { reach: 'any' },

  'GET /api/credits/balance': { reach: 'user' },
  'POST /api/credits/check': { reach: 'user' },
  'GET /api/credits/allocations': { reach: 'user' },
  'GET /api/credits/ledger': { reach: 'user' },
  'GET /api/credits/statement': { reach: 'user' },
  'GET /api/streaming-sessions/active': { reach: 'user' },
  'GET /api/usage/stats': { reach: 'user' },
  'GET /api/usage/records': { reach: 'user' },
  'GET /api/usage/records/export': { reach: 'user' },

  'GET /api/purchases': { reach: 'account' },

  'GET /api/orgs/:orgId': { reach: 'org' },
  'GET /api/orgs/:orgId/members': { reach: 'org' },
  'GET /api/orgs/:orgId/members/:userId': { reach: 'org' },
  'GET /api/orgs/:orgId/balance': { reach: 'org' },
  'GET /api/orgs/:orgId/allocations': { reach: 'org' },
  'GET /api/orgs/:orgId/ledger': { reach: 'org' },
  'GET /api/orgs/:orgId/usage/stats': { reach: 'org' },
  'GET /api/orgs/:orgId/usage/records': { reach: 'org' },
  'GET /api/orgs/:orgId/statement': { reach: 'org' },

  'GET /api/api-keys': { reach: 'any' },
  'GET /api/api-keys/:id': { reach: 'any' },
  'POST /api/api-keys': { reach: 'any', bodyOrg: true, write: true },
  'DELETE /api/api-keys/:id': { reach: 'any', write: true },
  'POST /api/promotions/redeem': { reach: 'any', bodyOrg: true, write: true },
};
