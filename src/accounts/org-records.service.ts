import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

import type { AccountRule, ResolvedAccount } from '../auth/account-access.js';
import type { AuthUser } from '../auth/roles.js';
import { NotFoundError } from '../common/errors/domain-error.js';
import { AccountResolver } from './account-resolver.js';
import { OrgRecordsRepository } from './org-records.repository.js';
import type { OrgRole } from './org-roles.js';

/**
 * What the orgs module may change of an organisation's rows, always inside the caller's transaction
 * (the caller holds the org's lock and decides the rules: the last owner stays, who may add whom).
 */
@Injectable()
export class OrgRecordsService {
  constructor(
    private readonly repo: OrgRecordsRepository,
    private readonly resolver: AccountResolver,
  ) {}

  /**
   * Locks the org's row for a change of its memberships (none: 404), then applies the one access rule
   * to the caller under that lock, in `m` (404 / 403 as the resolver's `resolve`): the access guard
   * decided before the lock, and a demotion committed in between is read here. The org's account as
   * the caller reaches it (`memberRole`: their role now; null: the org has no account).
   */
  async lockForMembers(
    m: EntityManager,
    caller: AuthUser,
    orgId: string,
    rule: AccountRule,
  ): Promise<ResolvedAccount | null> {
    if (!(await this.repo.lockOrg(m, orgId))) throw new NotFoundError('Org');
    return this.resolver.resolve(caller, { orgId }, rule, 'supervisor', m);
  }

  /** Creates the org (and, by its trigger, its account) with its first owner; false when the id is taken. */
  async create(m: EntityManager, org: { orgId: string; name: string; createdBy: string; ownerUserId: string }) {
    if (!(await this.repo.insertOrg(m, org))) return false;
    await this.repo.upsertMember(m, { orgId: org.orgId, userId: org.ownerUserId, role: 'owner' });
    return true;
  }

  setModels(m: EntityManager, orgId: string, models: string[] | null): Promise<boolean> {
    return this.repo.setModels(m, orgId, models);
  }

  putMember(m: EntityManager, member: { orgId: string; userId: string; role: OrgRole }): Promise<void> {
    return this.repo.upsertMember(m, member);
  }

  removeMember(m: EntityManager, orgId: string, userId: string): Promise<void> {
    return this.repo.removeMember(m, orgId, userId);
  }
}
