import { createParamDecorator, type ExecutionContext, ForbiddenException } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

import { DomainError, NotAMemberError, NotFoundError } from '../common/errors/domain-error.js';
import { assertNotOwnGrant, assertNotOwnOrgGrant, type SELF_GRANT_MESSAGES } from './access.js';
import { isServicePrincipal } from './metering.js';
import { isOrgManager, isOrgReader, type OrgRole } from './org-roles.js';
import { type AuthUser, type Role, roleSatisfies } from './roles.js';

/**
 * The one access rule: may this caller reach this account, and with which role (docs/trust-model.md,
 * "Who may reach an account (the one access rule)"). Every route that names an account in its path or query declares its
 * rule with `@Auth(role, { account })` and the access guard applies it before the handler runs;
 * a route naming the account in its body declares the rule as its `body`, and a route on a row the
 * path names (a usage record, a purchase) as its `row`, which the guard applies too (src/auth/row-accounts.ts);
 * a service deciding again under a lock calls the same functions.
 *
 * 1. Who sees an account: staff (a supervisor's or admin's JWT) every existing one, a user their own,
 *    an active member their org's, and service principals every one where the rule says `services`.
 *    Anyone else gets 404, as for an account that does not exist: ids cannot be probed.
 * 2. Who may use the route on it: the route's staff role, or the user themself (`user: 'holder'`), or
 *    members from the rule's org role up. A caller who sees the account but falls short gets 403.
 */
export interface AccountRule {
  /** The `userId` parameter (path, else query) names a user's account; `holder`: that user may too. */
  user?: 'holder' | 'staff';
  /** The `orgId` parameter names an org's account; members from this org role up may use the route. */
  org?: OrgReach;
  /** What an org route lets its members do, for the 403 ("read its money and usage"). */
  what?: string;
  /** The lowest role that may use the route on every account (default: the route's, at least supervisor). */
  staff?: Role;
  /** Service principals see and use every account (purchases, which they create). */
  services?: true;
  /** An active member naming themself in `userId` may (their own member view; leaving). */
  selfMember?: true;
  /** The route writes to the account: an erased user's answers 409 ACCOUNT_ERASED (docs/erasure.md). */
  write?: true;
}

export type OrgReach = 'member' | 'reader' | 'manager' | 'staff';

/** Whether an org exists and the caller's active role in it (null: not a member). */
export interface OrgStanding {
  exists: boolean;
  role: OrgRole | null;
}

/** Reads who exists and who belongs where (the accounts module provides it: auth imports no feature). */
export interface OrgStandingReader {
  orgStanding(orgId: string, userId: string): Promise<OrgStanding>;
  userExists(userId: string): Promise<boolean>;
}

/**
 * An account the rule let the caller reach, as the engine names it (src/accounts/account-resolver.ts
 * resolves it): the one shape of an account past the edge. Where only the account is meant, not the
 * caller's standing in it, a `Pick` of its kind and owner names it (user ids and org ids may be equal
 * without meaning the same account, so the kind is part of it); AccountIds
 * (src/accounts/account-ids.ts) turns that into the engine's id. The API's `{userId}` or `{orgId}` is
 * the edge's input (path, query, body) and the answers' (AccountView, src/auth/account-views.ts).
 */
export interface ResolvedAccount {
  /** `accounts.account_id`: the engine's key. */
  accountId: string;
  kind: 'user' | 'org';
  /** The user id or the org id that names the account. */
  ownerId: string;
  /** An org's account reached as one of its active members: that member (the caller); else null. */
  memberId: string | null;
  /** That member's role in the org (null: no member). */
  memberRole: OrgRole | null;
}

/** Whether two accounts, by their kind and owner, are the same account. */
export const sameAccount = (
  a: Pick<ResolvedAccount, 'kind' | 'ownerId'>,
  b: Pick<ResolvedAccount, 'kind' | 'ownerId'>,
): boolean => a.kind === b.kind && a.ownerId === b.ownerId;

/** The user account the access guard resolved for a route (NamedAccount), which must exist: 404 otherwise. */
export function existingUser(account: ResolvedAccount | null): ResolvedAccount {
  if (!account) throw new NotFoundError('User');
  return account;
}

/**
 * What a write naming an account in its body needs (the resolver's `forWrite`): `member`: the caller
 * must be an active member of the org it names; `org`/`what`: and of this role, for the 403.
 */
export interface WriteNeed {
  member: boolean;
  org?: 'reader' | 'manager';
  what?: string;
  /** Service principals write for any existing org, member or not (a redemption). */
  services?: true;
}

/**
 * The one resolver (src/accounts/account-resolver.ts): turns what a caller names into the account the
 * engine takes, applying this rule in the same call. Auth imports no feature: the composition root
 * binds it to ACCOUNT_ACCESS.
 */
export interface AccountAccess {
  /**
   * The account the request names under `rule` (null: it names none), or the rule's 404 / 403; with
   * `manager`, read in that transaction (a service deciding again under its lock). `named`: the public
   * account's fields as the request's path or query give them, where an org's route may name a user
   * too (a member).
   */
  resolve(
    caller: AuthUser,
    named: { userId?: string; orgId?: string },
    rule: AccountRule,
    routeRole?: Role,
    manager?: EntityManager,
  ): Promise<ResolvedAccount | null>;
  /**
   * A portal token on a route (`decidePortal`: the route's `portal` option, `target` the account the
   * request names, read only for a portal token; the guard's call); other callers pass.
   */
  admitPortal(
    caller: AuthUser,
    reach: PortalReach | undefined,
    target: () => Pick<ResolvedAccount, 'kind' | 'ownerId'> | null,
    write: boolean,
  ): void;
  /**
   * The portal session a caller acts through, with its account as the rule reaches it (an org's with
   * the user's role in it now); null: the caller holds no portal token.
   */
  portalSession(caller: AuthUser): Promise<(ResolvedAccount & { sessionId: string; scope: 'full' | 'read' }) | null>;
  /** The account whose API keys the caller reaches (null: every key of theirs): `portalKeysAccount`. */
  keysAccount(caller: AuthUser): Pick<ResolvedAccount, 'kind' | 'ownerId'> | null;
  /**
   * Separation of duties for a grant, a transfer in, a plan change or a downward correction of `owner` (403
   * SELF_GRANT_FORBIDDEN below admin for the caller's own account or an org they are an active member
   * of), read in `manager`'s transaction: membership at the time of the change. An erased user's
   * account: 409 ACCOUNT_ERASED, as every write naming it. Answers the account's id, read with the
   * decision (null: the owner has none yet): the write takes it and resolves no owner again.
   */
  forGrant(
    caller: AuthUser,
    owner: Pick<ResolvedAccount, 'kind' | 'ownerId'>,
    what: keyof typeof SELF_GRANT_MESSAGES,
    manager?: EntityManager,
  ): Promise<string | null>;
  /** A write naming `owner`: 409 ACCOUNT_ERASED when it is an erased user's account (docs/erasure.md). */
  writable(owner: Pick<ResolvedAccount, 'kind' | 'ownerId'>): void;
  /** Whether `userId`'s person was erased (docs/erasure.md), known in memory: the guard's read for NamedErased. */
  erased(userId: string): boolean;
  /** An org's account with `userId` as an active member (what a portal session for them needs), else 403 NOT_A_MEMBER. */
  memberOf(orgId: string, userId: string, manager?: EntityManager): Promise<ResolvedAccount>;
  /** The caller's own account: a portal session's, an org key's org, else the user's. */
  own(caller: AuthUser, manager?: EntityManager): Promise<ResolvedAccount>;
  /**
   * The account of an owner a caller the rule already let through names (a service principal's write);
   * null: none. `write`: an erased user's is 409 ACCOUNT_ERASED, as every write for one is.
   */
  account(owner: Pick<ResolvedAccount, 'kind' | 'ownerId'>, write?: 'write'): Promise<ResolvedAccount | null>;
  /**
   * The account a write names in its body (an org, else the caller's own), per `need`; with `manager`,
   * read in its transaction (a write already holding a connection takes no second one).
   */
  forWrite(
    caller: AuthUser,
    orgId: string | undefined,
    need: WriteNeed,
    manager?: EntityManager,
  ): Promise<ResolvedAccount>;
}
export const ACCOUNT_ACCESS = Symbol('ACCOUNT_ACCESS');

const REACH_TEXT: Record<'reader' | 'manager', string> = {
  reader: "the organisation's owners, admins and billing members",
  manager: "the organisation's owners and admins",
};

/** Staff: a supervisor's or an admin's JWT (an API key acts as its owner with role user). */
export const isStaff = (caller: AuthUser, role: Role = 'supervisor'): boolean =>
  caller.via === 'jwt' && roleSatisfies(caller.role, role);

/** Whether the caller sees every account under `rule` (staff; service principals where it says so). */
export const seesAll = (caller: AuthUser, rule: AccountRule): boolean =>
  isStaff(caller) || (rule.services === true && isServicePrincipal(caller));

const usesAll = (caller: AuthUser, rule: AccountRule, staff: Role): boolean =>
  (caller.via === 'jwt' && roleSatisfies(caller.role, staff)) || (rule.services === true && isServicePrincipal(caller));

const meets = (role: OrgRole | null, reach: OrgReach): boolean =>
  role !== null &&
  (reach === 'member' || (reach === 'reader' && isOrgReader(role)) || (reach === 'manager' && isOrgManager(role)));

/** The lowest role that uses a route on every account: the rule's, else the route's, at least supervisor. */
export const staffRoleOf = (rule: AccountRule, routeRole: Role): Role =>
  rule.staff ?? (roleSatisfies(routeRole, 'supervisor') ? routeRole : 'supervisor');

/**
 * A user's account: 404 unless the caller sees it (`exists`: whether the user has an account, read
 * only for those who see every account), 403 unless they may use the route on it.
 */
export function decideUserAccess(
  caller: AuthUser,
  userId: string,
  rule: AccountRule,
  staff: Role,
  exists = true,
): void {
  if (caller.userId !== userId && !(seesAll(caller, rule) && exists)) throw new NotFoundError('User');
  if (usesAll(caller, rule, staff) || (rule.user === 'holder' && caller.userId === userId)) return;
  throw new ForbiddenException(`Requires role ${staff}`);
}

/**
 * An org's account: 404 for an unknown org and for a caller who is neither a member nor sees every
 * account, 403 for a member whose role is too low. `namesSelf`: the request's `userId` is the caller.
 */
export function decideOrgAccess(
  caller: AuthUser,
  standing: OrgStanding,
  rule: AccountRule,
  staff: Role,
  namesSelf = false,
): void {
  if (!standing.exists || (standing.role === null && !seesAll(caller, rule))) throw new NotFoundError('Org');
  if (usesAll(caller, rule, staff)) return;
  if (rule.selfMember && namesSelf && standing.role !== null) return;
  const reach = rule.org ?? 'staff';
  if (meets(standing.role, reach)) return;
  if (reach === 'staff' || reach === 'member' || !rule.what) throw new ForbiddenException(`Requires role ${staff}`);
  throw new DomainError('FORBIDDEN', orgRoleRefusal(reach, rule.what));
}

/** The 403 of a member below the route's org role (also the OpenAPI example's message). */
export const orgRoleRefusal = (reach: 'reader' | 'manager', what: string): string =>
  `Only ${REACH_TEXT[reach]} may ${what}`;

/** The rule for every account the request names (the guard's call). */
export async function requireAccess(
  caller: AuthUser,
  named: { userId?: string; orgId?: string },
  rule: AccountRule,
  routeRole: Role,
  orgs: OrgStandingReader,
): Promise<void> {
  const staff = staffRoleOf(rule, routeRole);
  // A route that takes either names one account: both at once is bad input, not a question of access.
  if (rule.user && rule.org && named.userId !== undefined && named.orgId !== undefined)
    throw new DomainError('VALIDATION', 'Give exactly one of userId and orgId');
  if (rule.org && named.orgId !== undefined) {
    const standing = await orgs.orgStanding(named.orgId, caller.userId);
    decideOrgAccess(caller, standing, rule, staff, named.userId === caller.userId);
  }
  if (rule.user && named.userId !== undefined) {
    const other = named.userId !== caller.userId && seesAll(caller, rule);
    decideUserAccess(caller, named.userId, rule, staff, !other || (await orgs.userExists(named.userId)));
  }
}

/**
 * Whether `decide` lets the caller in: its 404 or 403 is no; bad input stays an error. For an object
 * found by its own id (a purchase), whose account the access guard decided (AuthRule `row`): no is its 404.
 */
export async function reachable(decide: () => Promise<unknown>): Promise<boolean> {
  try {
    await decide();
    return true;
  } catch (error) {
    if (error instanceof ForbiddenException || (error instanceof DomainError && error.code !== 'VALIDATION'))
      return false;
    throw error;
  }
}

/**
 * What a portal token may do on a route: absent, nothing (403, fail closed: a new route stays out
 * until its `@Auth` says `portal`). `any`: the route reaches no account by its path or query (the
 * caller, prices, packages; API keys and redemptions, whose service asks the resolver for the
 * session's account). `own`: the route reads the account it names, or the caller's own user account
 * when it names none, and that must be the session's. `session`: as `own`, but naming none is the
 * session's account (an org's for an org session): only for a route whose service reads the caller's
 * own through the resolver's `own`, which answers the session's account too.
 */
export type PortalReach = 'any' | 'own' | 'session';

/** A portal session's one account, by its kind and owner: the org's when the session names one, else the user's. */
export const portalAccount = (caller: AuthUser): Pick<ResolvedAccount, 'kind' | 'ownerId'> | null =>
  caller.portal
    ? caller.portal.orgId === null
      ? { kind: 'user', ownerId: caller.userId }
      : { kind: 'org', ownerId: caller.portal.orgId }
    : null;

/**
 * The account a caller's own is (what the resolver's `own` reads): a portal token's, an org key's
 * org, else the user's.
 */
export const ownAccount = (caller: AuthUser): Pick<ResolvedAccount, 'kind' | 'ownerId'> =>
  portalAccount(caller) ??
  (caller.orgId ? { kind: 'org', ownerId: caller.orgId } : { kind: 'user', ownerId: caller.userId });

/**
 * The account whose API keys a portal session reaches, its own (an org's: the keys of that membership;
 * the user's: the personal ones), by its kind and owner; other callers: null, every key of theirs.
 */
export const portalKeysAccount = (caller: AuthUser): Pick<ResolvedAccount, 'kind' | 'ownerId'> | null =>
  portalAccount(caller);

/** `portalKeysAccount` of the route's caller, handed to its handler (the API keys' routes). */
export const KeysAccount = createParamDecorator((_data: unknown, ctx: ExecutionContext) =>
  portalKeysAccount(ctx.switchToHttp().getRequest<{ user: AuthUser }>().user),
);

/**
 * A portal token on a route. First the account the route names (`target`; null means the caller's
 * own user account on an `own` route, the session's on a `session` route): another than the
 * session's is 404, as for any outsider, whether or not the route lets portal tokens in, so a portal
 * token and its user's JWT answer an account they may not see alike and a staff route cannot tell
 * which ids exist. Then refused (403) unless the route lets portal tokens in, or when it `write`s and
 * the session is a `read` one. Other callers pass.
 */
export function decidePortal(
  caller: AuthUser,
  reach: PortalReach | undefined,
  target: Pick<ResolvedAccount, 'kind' | 'ownerId'> | null,
  write = false,
): void {
  const session = portalAccount(caller);
  if (!session) return;
  // An `any` route names no account: a userId in its query is not one it reads.
  const named =
    reach === 'any' ? null : (target ?? (reach === 'own' ? { kind: 'user' as const, ownerId: caller.userId } : null));
  if (named && !sameAccount(named, session)) throw new NotFoundError(named.kind === 'org' ? 'Org' : 'User');
  if (!reach) throw new DomainError('FORBIDDEN', 'A portal session cannot call this route');
  // A `read` session (what the embeddable elements hold) reaches the reads only.
  if (write && caller.portal?.scope === 'read')
    throw new DomainError('FORBIDDEN', 'A read-only portal session cannot change anything');
}

/**
 * A portal token writing for an account named in a body (an org, else the user's own): only the
 * session's, else 403 (a write for an account the caller may not act for).
 */
export function decidePortalWrite(caller: AuthUser, orgId: string | undefined): void {
  const session = portalAccount(caller);
  if (!session || (session.kind === 'org' ? session.ownerId === orgId : orgId === undefined)) return;
  throw new DomainError(
    'FORBIDDEN',
    session.kind === 'user'
      ? 'A portal session of a user acts for the user’s own account only'
      : `A portal session of organisation ${session.ownerId} acts for that organisation only: name it as orgId`,
  );
}

/**
 * A write naming an org in its body (metering, transfers, purchases, redemptions, API keys): an org
 * that does not exist and one the acting user must be, and is not, an active member of are the same
 * 403 NOT_A_MEMBER, so the answer tells nobody which org ids exist. `member`: the user must belong.
 */
export function requireOrgForWrite(standing: OrgStanding, orgId: string, userId: string, member: boolean): void {
  if (!standing.exists || (member && standing.role === null)) throw new NotAMemberError(orgId, userId);
}

/** `requireOrgForWrite`, then the member's role against what the write needs (403 FORBIDDEN below it). */
export function decideOrgWrite(standing: OrgStanding, orgId: string, userId: string, need: WriteNeed): void {
  requireOrgForWrite(standing, orgId, userId, need.member);
  if (need.member && need.org && !meets(standing.role, need.org))
    throw new DomainError('FORBIDDEN', orgRoleRefusal(need.org, need.what ?? 'act for it'));
}

/**
 * Separation of duties (src/auth/access.ts): below admin, nobody grants to their own account, nor to
 * an org of which they are an active member (`role`: theirs in it, null when none).
 */
export function decideGrant(
  caller: AuthUser,
  owner: Pick<ResolvedAccount, 'kind' | 'ownerId'>,
  role: OrgRole | null,
  what: keyof typeof SELF_GRANT_MESSAGES,
): void {
  if (owner.kind === 'user') assertNotOwnGrant(caller, owner.ownerId, what);
  else assertNotOwnOrgGrant(caller, role, what);
}
