import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

import type { SELF_GRANT_MESSAGES } from '../auth/access.js';
import {
  type AccountAccess,
  type AccountRule,
  decideGrant,
  decideOrgWrite,
  decidePortal,
  decidePortalWrite,
  ownAccount,
  portalAccount,
  portalKeysAccount,
  type PortalReach,
  requireAccess,
  type ResolvedAccount,
  type WriteNeed,
} from '../auth/account-access.js';
import { isServicePrincipal } from '../auth/metering.js';
import type { OrgRole } from '../auth/org-roles.js';
import type { AuthUser, Role } from '../auth/roles.js';
import { NotFoundError } from '../common/errors/domain-error.js';
import { AccountIds } from './account-ids.js';
import { AccountsRepository } from './accounts.repository.js';
import { ErasedAccounts } from './erased-accounts.js';

/**
 * The one resolver (docs/trust-model.md "Who may reach an account (the one access rule)"): what a
 * caller names (`{userId}`, `{orgId}`, a portal session, an API key, a JWT) becomes the account the
 * engine takes, `{accountId, kind, memberId}`, and the access rule (src/auth/account-access.ts) is
 * applied in the same call, on one statement's read (the account id and the caller's role in it).
 * The access guard calls it for every route naming an account in its path, query or body (the
 * route's `body` rule) or by a row the path names (its `row` rule: a usage record, a purchase); a
 * service asks it again under a lock; nothing below it resolves again.
 */
@Injectable()
export class AccountResolver implements AccountAccess {
  constructor(
    private readonly accounts: AccountsRepository,
    private readonly ids: AccountIds,
    private readonly erasures: ErasedAccounts,
  ) {}

  /**
   * The standing of `userId` in the account `owner` names, its id remembered (AccountIds). A user's
   * account has no roles: its id alone, without a statement once this instance has seen it.
   */
  private async standing(
    owner: Pick<ResolvedAccount, 'kind' | 'ownerId'>,
    userId: string,
    manager?: EntityManager,
  ): Promise<{ accountId: string | null; role: OrgRole | null }> {
    if (owner.kind === 'user')
      return { accountId: await this.ids.of(manager ?? this.accounts.pool, owner), role: null };
    const read = await this.accounts.standing(owner.kind, owner.ownerId, userId, manager);
    if (read.accountId !== null) this.ids.learned(manager, owner, read.accountId);
    return read;
  }

  async resolve(
    caller: AuthUser,
    named: { userId?: string; orgId?: string },
    rule: AccountRule,
    routeRole: Role = 'user',
    manager?: EntityManager,
  ): Promise<ResolvedAccount | null> {
    const owner = namedOwner(named, rule);
    // A portal token sees its session's account only, whatever else the rule would let its user see.
    if (owner) decidePortal(caller, 'own', owner);
    const read = owner ? await this.standing(owner, caller.userId, manager) : null;
    const standing = { exists: read?.accountId != null, role: read?.role ?? null };
    await requireAccess(caller, named, rule, routeRole, {
      orgStanding: () => Promise.resolve(standing),
      userExists: () => Promise.resolve(standing.exists),
    });
    if (rule.write && owner) this.writable(owner);
    if (!owner || !read?.accountId) return null;
    return resolved(owner, read.accountId, caller.userId, read.role);
  }

  admitPortal(
    caller: AuthUser,
    reach: PortalReach | undefined,
    target: () => Pick<ResolvedAccount, 'kind' | 'ownerId'> | null,
    write: boolean,
  ): void {
    if (portalAccount(caller)) decidePortal(caller, reach, target(), write);
  }

  async portalSession(
    caller: AuthUser,
  ): Promise<(ResolvedAccount & { sessionId: string; scope: 'full' | 'read' }) | null> {
    const session = caller.portal;
    if (!session) return null;
    return { ...(await this.own(caller)), sessionId: session.sessionId, scope: session.scope };
  }

  keysAccount(caller: AuthUser): Pick<ResolvedAccount, 'kind' | 'ownerId'> | null {
    return portalKeysAccount(caller);
  }

  async forGrant(
    caller: AuthUser,
    owner: Pick<ResolvedAccount, 'kind' | 'ownerId'>,
    what: keyof typeof SELF_GRANT_MESSAGES,
    manager?: EntityManager,
  ): Promise<string | null> {
    const read = await this.standing(owner, caller.userId, manager);
    decideGrant(caller, owner, read.role, what);
    this.writable(owner);
    return read.accountId;
  }

  writable(owner: Pick<ResolvedAccount, 'kind' | 'ownerId'>): void {
    // Known in memory (ErasedAccounts): the refusal costs no statement.
    if (owner.kind === 'user') this.erasures.assertNotErased(owner.ownerId);
  }

  erased(userId: string): boolean {
    return this.erasures.has(userId);
  }

  async memberOf(orgId: string, userId: string, manager?: EntityManager): Promise<ResolvedAccount> {
    const read = await this.standing({ kind: 'org', ownerId: orgId }, userId, manager);
    decideOrgWrite({ exists: read.accountId !== null, role: read.role }, orgId, userId, { member: true });
    return resolved({ kind: 'org', ownerId: orgId }, read.accountId!, userId, read.role);
  }

  async own(caller: AuthUser, manager?: EntityManager): Promise<ResolvedAccount> {
    const owner = ownAccount(caller);
    const read = await this.standing(owner, caller.userId, manager);
    if (!read.accountId) throw new NotFoundError(owner.kind === 'org' ? 'Org' : 'User');
    return resolved(owner, read.accountId, caller.userId, owner.kind === 'org' ? read.role : null, true);
  }

  async account(owner: Pick<ResolvedAccount, 'kind' | 'ownerId'>, write?: 'write'): Promise<ResolvedAccount | null> {
    if (write) this.writable(owner);
    const read = await this.standing(owner, '');
    return read.accountId ? resolved(owner, read.accountId, null, null) : null;
  }

  async forWrite(
    caller: AuthUser,
    orgId: string | undefined,
    need: WriteNeed,
    manager?: EntityManager,
  ): Promise<ResolvedAccount> {
    decidePortalWrite(caller, orgId);
    if (orgId === undefined) return this.own({ ...caller, orgId: undefined }, manager);
    const read = await this.standing({ kind: 'org', ownerId: orgId }, caller.userId, manager);
    const needed = need.services && isServicePrincipal(caller) ? { member: false } : need;
    decideOrgWrite({ exists: read.accountId !== null, role: read.role }, orgId, caller.userId, needed);
    return resolved({ kind: 'org', ownerId: orgId }, read.accountId!, caller.userId, read.role);
  }
}

/**
 * The account as the engine takes it; an org's names `userId` as its member when they hold a role in
 * it (`always`: the caller's own org account, an org key's or a portal session's, whose member they are by
 * the credential).
 */
const resolved = (
  owner: Pick<ResolvedAccount, 'kind' | 'ownerId'>,
  accountId: string,
  userId: string | null,
  role: OrgRole | null,
  always = false,
): ResolvedAccount => {
  const member = owner.kind === 'org' && userId !== null && (always || role !== null);
  return {
    accountId,
    kind: owner.kind,
    ownerId: owner.ownerId,
    memberId: member ? userId : null,
    memberRole: member ? role : null,
  };
};

/** The account a request names under its rule: an org route's `orgId`, else a user route's `userId`. */
function namedOwner(
  named: { userId?: string; orgId?: string },
  rule: AccountRule,
): Pick<ResolvedAccount, 'kind' | 'ownerId'> | null {
  if (rule.org && named.orgId !== undefined) return { kind: 'org', ownerId: named.orgId };
  if (rule.user && named.userId !== undefined) return { kind: 'user', ownerId: named.userId };
  return null;
}
