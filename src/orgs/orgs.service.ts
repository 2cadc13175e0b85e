import { randomBytes } from 'node:crypto';

import { Inject, Injectable } from '@nestjs/common';

import { AccountsService } from '../accounts/accounts.service.js';
import { OrgRecordsService } from '../accounts/org-records.service.js';
import { AuditService } from '../audit/audit.service.js';
import { type AuthUser, roleSatisfies } from '../auth/roles.js';
import { AccountErasedError, DomainError, NotFoundError } from '../common/errors/domain-error.js';
import { decodeTimeCursor, DEFAULT_LIMIT, type Page, toPage } from '../common/http/pagination.js';
import { Transactions } from '../database/transactions.js';
import { PricingService } from '../pricing/pricing.service.js';
import type { MyOrgsResponseDto, OrgResponseDto } from './dto/org.dto.js';
import { type OrgRow, OrgsRepository } from './orgs.repository.js';

/** Organisations themselves: creating one with its owner, the lists, the org view, access. */
@Injectable()
export class OrgsService {
  constructor(
    private readonly repo: OrgsRepository,
    @Inject(AccountsService) private readonly accounts: AccountsService,
    @Inject(OrgRecordsService) private readonly records: OrgRecordsService,
    @Inject(Transactions) private readonly tx: Transactions,
    @Inject(AuditService) private readonly audit: AuditService,
    @Inject(PricingService) private readonly pricing: PricingService,
  ) {}

  /**
   * Creates the org (its account is opened by the orgs table's trigger, in the same transaction) with
   * `ownerUserId` as its first member, role owner. An unknown owner → 404; a taken id → 409.
   */
  /** `erased`: the erased users the request names, as the access guard read them (NamedErased). */
  create(
    caller: AuthUser,
    body: { orgId?: string; name: string; ownerUserId: string },
    erased: ReadonlySet<string>,
  ): Promise<OrgResponseDto> {
    const orgId = body.orgId ?? `org-${randomBytes(6).toString('hex')}`;
    return this.tx.run(async (m) => {
      if (!(await this.accounts.exists(m, body.ownerUserId))) throw new NotFoundError('User');
      // An erased person owns no new org (docs/erasure.md "After an erasure").
      if (erased.has(body.ownerUserId)) throw new AccountErasedError(409);
      // Separation of duties: a supervisor may not make an org of their own (and fund and spend it).
      if (body.ownerUserId === caller.userId && !roleSatisfies(caller.role, 'admin')) {
        throw new DomainError('SELF_GRANT_FORBIDDEN', 'Supervisors may not create an organisation they own');
      }
      const created = { orgId, name: body.name, createdBy: caller.userId, ownerUserId: body.ownerUserId };
      if (!(await this.records.create(m, created))) throw new DomainError('ORG_EXISTS', `Org ${orgId} exists already`);
      const view = toOrgView((await this.repo.findOrg(m, orgId))!);
      await this.audit.record(m, {
        action: 'org.create',
        targetId: orgId,
        before: null,
        after: { ...view, ownerUserId: body.ownerUserId },
      });
      return view;
    });
  }

  async list(query: { search?: string; limit?: number; cursor?: string }): Promise<Page<OrgResponseDto>> {
    const limit = query.limit ?? DEFAULT_LIMIT;
    const rows = await this.repo.listOrgs({
      search: query.search,
      after: decodeTimeCursor(query.cursor, 'text'),
      limit,
    });
    return toPage(rows, limit, toOrgView, (r) => ({ t: r.created_t, id: r.org_id }));
  }

  async mine(userId: string): Promise<MyOrgsResponseDto> {
    const rows = await this.repo.memberships(userId);
    return { items: rows.map((r) => ({ orgId: r.org_id, name: r.name, role: r.role })) };
  }

  /**
   * Which models the org's members may meter on its account (staff): audited; every other instance's
   * pricing cache hears of it through the table's NOTIFY (docs/pricing.md "Model entitlements"), and
   * this one's forgets its copy at commit, before the answer (the notification may come after the
   * caller's next request).
   */
  async setModels(orgId: string, models: string[] | null | undefined): Promise<OrgResponseDto> {
    return this.tx.run(async (m) => {
      const before = await this.repo.findOrg(m, orgId);
      if (!before) throw new NotFoundError('Org');
      if (models === undefined) throw new DomainError('VALIDATION', 'models is required (null allows every model)');
      await this.records.setModels(m, orgId, models);
      this.pricing.invalidateAtCommit();
      const after = toOrgView((await this.repo.findOrg(m, orgId))!);
      await this.audit.record(m, {
        action: 'org.models.set',
        targetId: orgId,
        before: { models: before.models },
        after: { models: after.models },
      });
      return after;
    });
  }

  /** The org view, for its members and staff (the access rule decided who). */
  async get(orgId: string): Promise<OrgResponseDto> {
    const row = await this.repo.findOrg(this.tx.statementManager, orgId);
    if (!row) throw new NotFoundError('Org');
    return toOrgView(row);
  }
}

export function toOrgView(r: OrgRow): OrgResponseDto {
  return {
    orgId: r.org_id,
    name: r.name,
    createdAt: r.created_at.toISOString(),
    memberCount: Number(r.member_count),
    totalCredits: Number(r.total_credits),
    heldCredits: Number(r.held_credits),
    debt: Number(r.debt),
    models: r.models,
    billingCurrency: r.billing_currency,
  };
}
