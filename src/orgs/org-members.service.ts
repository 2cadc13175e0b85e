import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

import { AccountsService } from '../accounts/accounts.service.js';
import { OrgRecordsService } from '../accounts/org-records.service.js';
import type { OrgRole, SpendLimitPeriod } from '../accounts/org-roles.js';
import { ApiKeysService } from '../api-keys/api-keys.service.js';
import { isStaff, type ResolvedAccount } from '../auth/account-access.js';
import { type AuthUser, roleSatisfies } from '../auth/roles.js';
import { Changes } from '../changes/changes.js';
import { AccountErasedError, DomainError, NotFoundError } from '../common/errors/domain-error.js';
import { decodeIdCursor, DEFAULT_LIMIT, type Page, toPage } from '../common/http/pagination.js';
import { type CapRow, CreditAccountsService } from '../engine/credit-accounts.service.js';
import { StreamingSessionsService } from '../streaming-sessions/streaming-sessions.service.js';
import type { MemberResponseDto, PutMemberDto, RemovedMemberResponseDto } from './dto/member.dto.js';
import { type LockedMember, type MemberRow, OrgsRepository } from './orgs.repository.js';

/**
 * Memberships (docs/orgs.md "Roles and who may do what"): org managers (owners, admins) and staff add, change and
 * remove members; an org admin never makes or changes an owner; the last owner stays. Every change
 * locks the org's row first, so two changes of one org never both pass the last-owner rule.
 */
@Injectable()
export class OrgMembersService {
  constructor(
    private readonly repo: OrgsRepository,
    @Inject(AccountsService) private readonly accounts: AccountsService,
    @Inject(OrgRecordsService) private readonly records: OrgRecordsService,
    @Inject(Changes) private readonly changes: Changes,
    @Inject(StreamingSessionsService) private readonly streaming: StreamingSessionsService,
    @Inject(ApiKeysService) private readonly apiKeys: ApiKeysService,
    @Inject(CreditAccountsService) private readonly caps: CreditAccountsService,
  ) {}

  /** The memberships with their limits (the credits module's caps) and what each spent at the app's clock. */
  private async withCaps(m: EntityManager, accountId: string | null, rows: MemberRow[]): Promise<MemberView[]> {
    const ids = rows.map((r) => r.user_id);
    const caps = await this.caps.memberCaps(m, accountId, ids, this.now());
    return rows.map((r) => ({ ...r, cap: caps.get(r.user_id) ?? null }));
  }

  /** One membership's view (null: never a member); the org's account is `accountId`. */
  private async memberView(
    m: EntityManager,
    org: { orgId: string; accountId: string | null },
    userId: string,
  ): Promise<MemberView | null> {
    const row = await this.repo.findMember(m, org.orgId, userId);
    return row && (await this.withCaps(m, org.accountId, [row]))[0];
  }

  /** The instant the member views are computed at (the app's clock: tests set it). */
  private now(): Date {
    return new Date(this.changes.clock.now());
  }

  /** `erased`: the erased users the request names, as the access guard read them (NamedErased). */
  async put(
    caller: AuthUser,
    orgId: string,
    userId: string,
    body: PutMemberDto,
    erased: ReadonlySet<string>,
  ): Promise<MemberResponseDto> {
    return this.changes.tx.run(async (m) => {
      const standing = await this.lockAndCheck(m, caller, orgId, 'manager', 'change its members');
      if (!(await this.accounts.exists(m, userId))) throw new NotFoundError('User');
      // An erased person joins nothing, in any role (docs/erasure.md "After an erasure").
      if (erased.has(userId)) throw new AccountErasedError(409);
      const current = await this.repo.lockMember(m, orgId, userId);
      const active = current !== null && current.removed_at === null;
      const wasOwner = active && current.role === 'owner';
      if (!standing.staff && standing.role !== 'owner' && (body.role === 'owner' || wasOwner))
        throw new DomainError('ORG_ROLE_FORBIDDEN', 'Only owners (and staff) may make or change an owner');
      const org = { orgId, accountId: standing.accountId };
      const before = current && (await this.memberView(m, org, userId));
      assertMayChangeMember(caller, standing, userId, current, before?.cap ?? null, body);
      if (wasOwner && body.role !== 'owner') await this.assertNotLastOwner(m, orgId, userId);
      await this.records.putMember(m, { orgId, userId, role: body.role });
      if (body.spendLimit !== undefined && standing.accountId !== null)
        await this.caps.setMemberCap(m, standing.accountId, userId, body.spendLimit);
      const after = toMemberView((await this.memberView(m, org, userId))!);
      await this.changes.audit.record(m, {
        action: 'org.member.set',
        targetId: orgId,
        before: before && toMemberView(before),
        after,
        whoever: true,
      });
      return after;
    });
  }

  /** One member's view: for that member, the org's readers and staff. */
  async get(org: ResolvedAccount, userId: string): Promise<MemberResponseDto> {
    const row = await this.memberView(
      this.changes.tx.statementManager,
      { orgId: org.ownerId, accountId: org.accountId },
      userId,
    );
    if (!row) throw new NotFoundError('Member');
    return toMemberView(row);
  }

  async list(
    org: ResolvedAccount,
    query: { includeRemoved?: boolean; limit?: number; cursor?: string },
  ): Promise<Page<MemberResponseDto>> {
    const limit = query.limit ?? DEFAULT_LIMIT;
    const rows = await this.repo.listMembers({
      orgId: org.ownerId,
      includeRemoved: query.includeRemoved ?? false,
      afterUserId: decodeIdCursor(query.cursor, 'text')?.id ?? null,
      limit,
    });
    const views = await this.withCaps(this.changes.tx.statementManager, org.accountId, rows);
    return toPage(views, limit, toMemberView, (r) => ({ id: r.user_id }));
  }

  /**
   * Removes a member (managers, staff, or the member leaving on their own): they meter nothing more
   * on the org; what they spent and their records stay. `release` aborts their open org sessions at
   * once (see releaseSessions); `drain` lets them settle.
   */
  remove(
    caller: AuthUser,
    orgId: string,
    userId: string,
    sessions: 'drain' | 'release',
  ): Promise<RemovedMemberResponseDto> {
    return this.changes.tx.run(async (m) => {
      const leaving = caller.userId === userId;
      const standing = await this.lockAndCheck(m, caller, orgId, leaving ? 'member' : 'manager', 'remove its members');
      // The org's account lock too, before the member's row: a charge in flight for this member (it
      // holds the account lock) commits first, so `release` sees the session it opened, and a charge
      // after it sees the member removed.
      if (standing.accountId !== null) await this.caps.lockAccount(m, standing.accountId);
      const current = await this.repo.lockMember(m, orgId, userId);
      if (!current || current.removed_at !== null) throw new NotFoundError('Member');
      if (current.role === 'owner' && !leaving && !standing.staff && standing.role !== 'owner')
        throw new DomainError('ORG_ROLE_FORBIDDEN', 'Only owners (and staff) may make or change an owner');
      if (current.role === 'owner') await this.assertNotLastOwner(m, orgId, userId);
      const org = { orgId, accountId: standing.accountId };
      const before = toMemberView((await this.memberView(m, org, userId))!);
      await this.records.removeMember(m, orgId, userId);
      const revokedKeys = await this.apiKeys.revokeOrgKeys(m, orgId, userId);
      // An org without an account has no sessions to release.
      const releasedSessions =
        sessions === 'release' && org.accountId !== null
          ? await this.releaseSessions(m, caller, { orgId, accountId: org.accountId }, userId)
          : 0;
      const after = toMemberView((await this.memberView(m, org, userId))!);
      await this.changes.audit.record(m, {
        action: 'org.member.remove',
        targetId: orgId,
        before,
        after: { ...after, sessions, releasedSessions, revokedKeys },
        whoever: true,
      });
      return { ...after, releasedSessions };
    });
  }

  /**
   * `sessions=release`: aborts each open org session of the member at once, as cut off before any
   * token (nothing charged, the hold back to the pool and off the member's counter), in this
   * transaction, and answers how many (StreamingSessionsService.releaseMemberSessions()).
   */
  private releaseSessions(
    m: EntityManager,
    caller: AuthUser,
    org: { orgId: string; accountId: string },
    userId: string,
  ): Promise<number> {
    return this.streaming.releaseMemberSessions(org, userId, caller.userId, m);
  }

  /** Locks the org's row, then checks the caller's standing in the same transaction. */
  private async lockAndCheck(
    m: EntityManager,
    caller: AuthUser,
    orgId: string,
    need: 'member' | 'manager',
    what: string,
  ): Promise<OrgStanding> {
    // The access guard decided before the lock; under it, the same rule again (a demotion in between).
    const account = await this.records.lockForMembers(m, caller, orgId, { org: need, what });
    return { staff: isStaff(caller), role: account?.memberRole ?? null, accountId: account?.accountId ?? null };
  }

  private async assertNotLastOwner(m: EntityManager, orgId: string, userId: string): Promise<void> {
    if ((await this.repo.otherOwners(m, orgId, userId)) === 0)
      throw new DomainError('LAST_OWNER', 'An organisation keeps at least one owner');
  }
}

/** The caller's standing in the org: staff, or their active role (null: neither); the org's account. */
interface OrgStanding {
  staff: boolean;
  role: OrgRole | null;
  accountId: string | null;
}

/**
 * The rules of a membership change that guard the pool (docs/orgs.md): below admin, nobody makes
 * themself a member (a supervisor could fund an org, join it and spend it: separation of duties);
 * nobody changes their own spend limit (an org admin lifted theirs), and only owners and staff change
 * an admin's.
 */
function assertMayChangeMember(
  caller: AuthUser,
  standing: OrgStanding,
  userId: string,
  current: LockedMember | null,
  cap: CapRow | null,
  body: PutMemberDto,
): void {
  const self = caller.userId === userId;
  const active = current !== null && current.removed_at === null;
  if (self && !active && !roleSatisfies(caller.role, 'admin')) {
    throw new DomainError('SELF_GRANT_FORBIDDEN', 'Supervisors may not add themselves to an organisation');
  }
  if (body.spendLimit === undefined || sameLimit(cap, body.spendLimit)) return;
  if (self) throw new DomainError('SELF_GRANT_FORBIDDEN', 'Nobody may change their own spend limit in an organisation');
  const admin = (active && current.role === 'admin') || body.role === 'admin';
  if (admin && !standing.staff && standing.role !== 'owner') {
    throw new DomainError('ORG_ROLE_FORBIDDEN', 'Only owners (and staff) may change an org admin’s spend limit');
  }
}

function sameLimit(cap: CapRow | null, limit: PutMemberDto['spendLimit']): boolean {
  if (limit === null || limit === undefined) return cap === null;
  return cap?.limit === limit.credits && cap.period === limit.period;
}

/** A membership with its limit (null: none) and what was spent in its current period. */
interface MemberView extends MemberRow {
  cap: CapRow | null;
}

/**
 * The member view: what the member could spend from the org now is the smaller of the pool's
 * spendable credits and what their limit leaves in its period (never below 0); `binding` names the
 * smaller (the pool on a tie). A removed member can spend nothing from the org.
 */
export function toMemberView(r: MemberView): MemberResponseDto {
  const pool = Math.max(Number(r.pool), 0);
  const limit = r.cap?.limit ?? null;
  const left = r.cap === null ? null : Math.max(r.cap.limit - r.cap.spentInPeriod, 0);
  const memberBinds = left !== null && left < pool;
  return {
    orgId: r.org_id,
    userId: r.user_id,
    role: r.role as OrgRole,
    joinedAt: r.joined_at.toISOString(),
    removedAt: r.removed_at?.toISOString() ?? null,
    spendLimit: limit === null ? null : { credits: limit, period: r.cap!.period as SpendLimitPeriod },
    spentInPeriod: r.cap?.spentInPeriod ?? null,
    periodResetsAt: r.cap?.resetsAt?.toISOString() ?? null,
    availableCredits: r.removed_at !== null ? 0 : memberBinds ? left : pool,
    binding: r.removed_at !== null || memberBinds ? 'member' : 'pool',
  };
}
