import { Inject, Injectable } from '@nestjs/common';

import { AuditService } from '../../audit/audit.service.js';
import type { AuthUser } from '../../auth/roles.js';
import { DomainError, NotFoundError } from '../../common/errors/domain-error.js';
import { decodeTimeCursor, DEFAULT_LIMIT, toPage } from '../../common/http/pagination.js';
import { isUuid } from '../../common/validation/ids.js';
import { Transactions } from '../../database/transactions.js';
import { CreditAccountsService } from '../../engine/credit-accounts.service.js';
import { CreditsService } from '../../engine/credits.service.js';
import type { ResolveRecordDto, ReviewItemDto, ReviewListResponseDto } from '../dto/review.dto.js';
import { type ReviewRow, UsageReviewRepository } from './usage-review.repository.js';

const MAX_DEBTORS = 500;

function toItem(row: ReviewRow): ReviewItemDto {
  return {
    usageRecordId: row.id,
    userId: row.user_id,
    timestamp: row.timestamp.toISOString(),
    service: row.service,
    operation: row.operation,
    credits: row.credits,
    shortfall: row.shortfall,
    reviewStatus: row.review_status,
    resolution: row.resolution,
    resolvedBy: row.resolved_by,
    resolvedAt: row.resolved_at?.toISOString() ?? null,
    note: row.resolution_note,
    usageSource: row.usage_source,
    termination: row.termination,
  };
}

/**
 * The review queue (admin): settlement shortfalls the balance and overdraft could not cover, and
 * accounts (users' and organisations') with debt. Resolving writes off the shortfall or collects it now through the credits module.
 */
@Injectable()
export class UsageReviewService {
  constructor(
    private readonly review: UsageReviewRepository,
    @Inject(CreditsService) private readonly credits: CreditsService,
    @Inject(CreditAccountsService) private readonly creditAccounts: CreditAccountsService,
    @Inject(Transactions) private readonly tx: Transactions,
    @Inject(AuditService) private readonly audit: AuditService,
  ) {}

  async list(query: { status?: 'open' | 'resolved'; limit?: number; cursor?: string }): Promise<ReviewListResponseDto> {
    const status = query.status ?? 'open';
    const limit = query.limit ?? DEFAULT_LIMIT;
    const after = decodeTimeCursor(query.cursor, 'uuid');
    const rows = await this.review.page({ status, after, limit: limit + 1 });
    const page = toPage(rows, limit, toItem, (r) => ({ t: r.cursor_t, id: r.id }));
    const debts = status === 'open' && !query.cursor ? await this.creditAccounts.debtors(MAX_DEBTORS) : [];
    // An org's debt is named as events name an org: {userId: null, orgId}.
    return {
      ...page,
      debts: debts.map((d) =>
        d.orgId === null ? { userId: d.userId, debt: d.debt } : { userId: null, orgId: d.orgId, debt: d.debt },
      ),
    };
  }

  /** write_off or collect an open review, once: a second resolve is a 409. */
  resolve(caller: AuthUser, id: string, dto: ResolveRecordDto): Promise<ReviewItemDto> {
    if (!isUuid(id)) throw new NotFoundError('Usage record');
    return this.tx.run(async (m) => {
      const row = await this.review.lock(m, id);
      if (!row) throw new NotFoundError('Usage record');
      if (row.review_status === 'resolved')
        throw new DomainError('REVIEW_ALREADY_RESOLVED', 'This record was resolved already');
      if (row.review_status !== 'open') throw new DomainError('REVIEW_NOT_OPEN', 'This record has nothing to review');
      let collected = 0;
      if (dto.action === 'collect' && row.shortfall > 0) {
        const taken = await this.credits.collect(
          m,
          { accountId: row.account_id, userId: row.user_id, orgId: row.org_id },
          row.shortfall,
          {
            createdBy: caller.userId,
            usageRecordId: row.id,
          },
        );
        collected = taken.collected + taken.debt;
      }
      const resolved = await this.review.resolve(m, id, {
        action: dto.action,
        by: caller.userId,
        note: dto.note ?? null,
        collected,
      });
      const after = toItem(resolved);
      await this.audit.record(m, { action: 'usage.resolve', targetId: id, before: toItem(row), after });
      return after;
    });
  }
}
