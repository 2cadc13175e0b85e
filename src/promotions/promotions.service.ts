import { Inject, Injectable } from '@nestjs/common';

import { AuditService } from '../audit/audit.service.js';
import type { AuthUser } from '../auth/roles.js';
import { DomainError } from '../common/errors/domain-error.js';
import { decodeTimeCursor, DEFAULT_LIMIT, type Page, toPage } from '../common/http/pagination.js';
import { toDate } from '../common/validation/dates.js';
import { Transactions } from '../database/transactions.js';
import type { CreatePromotionDto, RedemptionViewDto } from './dto/promotions.dto.js';
import { CODE_PATTERN } from './dto/promotions.dto.js';
import { type PromotionView, toPromotionView, toRedemptionView } from './promotion-views.js';
import { PromotionsRepository } from './promotions.repository.js';

const notFound = () => new DomainError('PROMOTION_NOT_FOUND', 'No such promotion code');

/** Promotion codes as operators manage them (docs/selling.md): create, switch off and on, read. */
@Injectable()
export class PromotionsService {
  constructor(
    private readonly repo: PromotionsRepository,
    @Inject(Transactions) private readonly tx: Transactions,
    @Inject(AuditService) private readonly audit: AuditService,
  ) {}

  create(caller: AuthUser, body: CreatePromotionDto): Promise<PromotionView> {
    const startsAt = body.startsAt !== undefined ? toDate(body.startsAt) : null;
    const endsAt = body.endsAt !== undefined ? toDate(body.endsAt) : null;
    if (startsAt && endsAt && startsAt >= endsAt) throw new DomainError('VALIDATION', 'endsAt must be after startsAt');
    return this.tx.run(async (manager) => {
      const row = await this.repo.insert(manager, {
        code: body.code.toUpperCase(),
        credits: body.credits,
        expiryDays: body.expiryDays,
        startsAt,
        endsAt,
        maxRedemptions: body.maxRedemptions ?? null,
        perAccount: body.perAccount ?? 1,
        accounts: body.accounts ?? 'users',
        newAccountsWithinDays: body.newAccountsWithinDays ?? null,
        createdBy: caller.userId,
      });
      if (!row) throw new DomainError('PROMOTION_EXISTS', 'A promotion with this code exists');
      const view = toPromotionView(row);
      await this.audit.record(manager, { action: 'promotion.create', targetId: row.code, before: null, after: view });
      return view;
    });
  }

  setActive(code: string, active: boolean): Promise<PromotionView> {
    return this.tx.run(async (manager) => {
      const old = CODE_PATTERN.test(code) ? await this.repo.lock(manager, code.toUpperCase()) : null;
      if (!old) throw notFound();
      const before = toPromotionView(old);
      const view = toPromotionView(await this.repo.setActive(manager, old.code, active));
      await this.audit.record(manager, { action: 'promotion.update', targetId: old.code, before, after: view });
      return view;
    });
  }

  async list(query: { limit?: number; cursor?: string }): Promise<Page<PromotionView>> {
    const limit = query.limit ?? DEFAULT_LIMIT;
    const after = decodeTimeCursor(query.cursor, 'text');
    const rows = await this.repo.list({ after, limit: limit + 1 });
    return toPage(rows, limit, toPromotionView, (r) => ({ t: r.cursorT, id: r.code }));
  }

  async redemptions(code: string, query: { limit?: number; cursor?: string }): Promise<Page<RedemptionViewDto>> {
    const promotion = CODE_PATTERN.test(code)
      ? await this.tx.run((manager) => this.repo.find(manager, code.toUpperCase()))
      : null;
    if (!promotion) throw notFound();
    const limit = query.limit ?? DEFAULT_LIMIT;
    const after = decodeTimeCursor(query.cursor, 'uuid');
    const rows = await this.repo.redemptions({ code: promotion.code, after, limit: limit + 1 });
    return toPage(rows, limit, toRedemptionView, (r) => ({ t: r.cursorT, id: r.id }));
  }
}
