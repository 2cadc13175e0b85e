export const ROLES = ['user', 'supervisor', 'admin'] as const;
export type Role = (typeof ROLES)[number];

const RANK: Record<Role, number> = { user: 0, supervisor: 1, admin: 2 };

/** Unknown or absent roles fall back to the least privileged one. */
export function normaliseRole(value: unknown): Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value) ? (value as Role) : 'user';
}

/** user < supervisor < admin: a role satisfies every requirement at or below its rank. */
export function roleSatisfies(actual: Role, required: Role): boolean {
  return RANK[actual] >= RANK[required];
}

export const SCOPES = [
  'credits:read',
  'usage:read',
  'usage:write',
  'sessions:read',
  'sessions:write',
  'pricing:read',
  'usage:ingest',
  'gateway',
] as const;
export type Scope = (typeof SCOPES)[number];

/**
 * `usage:ingest` makes a key a service key: a service principal that meters any user's usage, naming
 * the user (docs/trust-model.md). Only an admin may give a key that scope; the key holds the
 * privilege itself, whatever later happens to its creator's role, until it is revoked or expires.
 */
export const ADMIN_ONLY_SCOPES: readonly Scope[] = ['usage:ingest'];

/**
 * The scopes a key acts with: what it was given (admin-only ones only an admin could give). Unknown
 * strings in the column (a scope since retired) grant nothing.
 */
export const knownScopes = (values: string[]): Scope[] =>
  values.filter((v): v is Scope => (SCOPES as readonly string[]).includes(v));

/**
 * `gateway`: the key may call the provider APIs under /v1 (docs/gateway.md), which spend credits on the
 * owner's behalf with no other step: a key has it only when its creator names it.
 */
export const OPT_IN_SCOPES: readonly Scope[] = ['gateway'];

/**
 * The scopes a key made by an end user (in the portal) can use under this configuration: reading
 * credits, usage, sessions and prices always; recording usage and opening sessions only where users
 * may meter themselves (METERING_TRUST=users: with the default `service` every such write of theirs
 * is refused 403 METERING_REQUIRES_SERVICE, docs/trust-model.md); `gateway` whenever the gateway is
 * on. The gateway is no self-report: the service itself measures what the provider answered and
 * charges the key's owner, under the same rules as any metering write, so an end user may hold a
 * gateway key even where they may not meter themselves.
 */
export function endUserKeyScopes(meteringTrust: 'service' | 'users', gatewayOn: boolean): Scope[] {
  const selfMetering: readonly Scope[] = ['usage:write', 'sessions:write'];
  return [
    ...DEFAULT_SCOPES.filter((s) => meteringTrust === 'users' || !selfMetering.includes(s)),
    ...(gatewayOn ? (['gateway'] as const) : []),
  ];
}

/** What a key gets when its creator names no scopes: every scope but the admin-only and opt-in ones. */
export const DEFAULT_SCOPES: readonly Scope[] = SCOPES.filter(
  (s) => !ADMIN_ONLY_SCOPES.includes(s) && !OPT_IN_SCOPES.includes(s),
);

/** The authenticated caller, as guards and handlers see it. */
export interface AuthUser {
  userId: string;
  role: Role;
  email: string | null;
  username: string | null;
  /** How the caller authenticated. API keys act with role `user`, limited to `scopes`. */
  via: 'jwt' | 'api-key';
  scopes?: Scope[];
  apiKeyId?: string;
  /** A key of a membership: the organisation it charges on behalf of its owner (docs/api-keys.md). */
  orgId?: string;
  /**
   * A portal session's token (src/portal/): the user's, with role `user`, limited to one account (their
   * own, or `orgId`'s) and the routes whose `@Auth` has a `portal` option (the access rule,
   * src/auth/account-access.ts); `scope` `read`: the reads only.
   */
  portal?: { sessionId: string; orgId: string | null; scope: 'full' | 'read' };
  /** The models the API key may meter (absent or null: every model; docs/pricing.md). */
  models?: string[] | null;
}
