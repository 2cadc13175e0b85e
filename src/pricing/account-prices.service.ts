import { Inject, Injectable } from '@nestjs/common';

import { AuditService } from '../audit/audit.service.js';
import type { BodyNamed } from '../auth/auth.decorator.js';
import { CLOCK, type Clock } from '../common/clock.js';
import { AccountErasedError, DomainError, NotFoundError } from '../common/errors/domain-error.js';
import { toDate } from '../common/validation/dates.js';
import { Transactions } from '../database/transactions.js';
import { type AccountPriceView, toAccountPriceView } from './account-prices.js';
import type { CreateAccountPriceDto } from './dto/account-prices.dto.js';
import { PricingRepository } from './pricing.repository.js';
import { PricingService } from './pricing.service.js';
import { normalisePrice } from './pricing-math.js';
import { unitPricesOf } from './pricing-rules.js';

const price = (value: string | undefined): string | null => (value === undefined ? null : normalisePrice(value));

/** A foreign key violation: the account named does not exist. */
const isMissingAccount = (error: unknown) =>
  typeof error === 'object' && error !== null && (error as { code?: unknown }).code === '23503';

/**
 * Account prices (docs/pricing.md "Account prices"): created, listed and deleted by staff, each change
 * audited in its transaction; the pricing cache hears of it through the table's NOTIFY.
 */
@Injectable()
export class AccountPricesService {
  constructor(
    private readonly repository: PricingRepository,
    private readonly pricing: PricingService,
    @Inject(Transactions) private readonly tx: Transactions,
    @Inject(AuditService) private readonly audit: AuditService,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  /**
   * `named`: the account the body names, as the access guard resolved it (a missing org is
   * `Organisation`); `erased`: the erased users the request names, as the guard read them.
   */
  async create(
    dto: CreateAccountPriceDto,
    createdBy: string,
    named: BodyNamed,
    erased: ReadonlySet<string>,
  ): Promise<AccountPriceView> {
    if ((dto.userId === undefined) === (dto.orgId === undefined)) {
      throw new DomainError('VALIDATION', 'Give exactly one of userId and orgId');
    }
    // An erased person is given no price of their own (docs/erasure.md "After an erasure").
    if (dto.userId !== undefined && erased.has(dto.userId)) throw new AccountErasedError(409);
    const kinds = [
      dto.pricePer1kTokens,
      dto.outputPricePer1kTokens,
      dto.cacheReadPricePer1kTokens,
      dto.cacheWritePricePer1kTokens,
      dto.reasoningPricePer1kTokens,
      dto.longContextThreshold,
      dto.unitPrices && Object.keys(dto.unitPrices).length > 0 ? dto.unitPrices : undefined,
    ];
    const perKind = kinds.some((v) => v !== undefined);
    if (perKind === (dto.discountPercent !== undefined)) {
      throw new DomainError(
        'VALIDATION',
        'Give either discountPercent or per-kind prices (pricePer1kTokens, …, unitPrices), not both',
      );
    }
    const tier = [dto.longContextThreshold, dto.longContextPricePer1kTokens, dto.longContextOutputPricePer1kTokens];
    if (tier.some((v) => v !== undefined) && tier.some((v) => v === undefined)) {
      throw new DomainError(
        'VALIDATION',
        'A long-context tier needs longContextThreshold, longContextPricePer1kTokens and longContextOutputPricePer1kTokens',
      );
    }
    const from = toDate(dto.effectiveFrom);
    this.pricing.assertNotPast(from);
    const to = dto.effectiveTo === undefined ? null : toDate(dto.effectiveTo);
    if (to && to.getTime() <= from.getTime())
      throw new DomainError('VALIDATION', 'effectiveTo must be after effectiveFrom');
    const owner = { userId: dto.userId ?? null, orgId: dto.orgId ?? null };
    const missing = () => new NotFoundError(owner.orgId ? 'Organisation' : 'User');
    // The account the body names, as the guard read it: below, the price is the account's.
    const account = named.take();
    if (!account) throw missing();
    const accountId = account.accountId;
    try {
      return await this.tx.run(async (manager) => {
        this.pricing.invalidateAtCommit();
        await this.repository.lockAccountPattern(manager, accountId, dto.modelId);
        // A new price of the same account and pattern replaces the open one from its start, as a rule does.
        await this.repository.closeOpenAccountPrice(manager, accountId, dto.modelId, from);
        const row = await this.repository.insertAccountPrice(manager, {
          accountId,
          ...owner,
          modelId: dto.modelId,
          discountPercent: dto.discountPercent ?? null,
          pricePer1kTokens: price(dto.pricePer1kTokens),
          outputPricePer1kTokens: price(dto.outputPricePer1kTokens),
          cacheReadPricePer1kTokens: price(dto.cacheReadPricePer1kTokens),
          cacheWritePricePer1kTokens: price(dto.cacheWritePricePer1kTokens),
          reasoningPricePer1kTokens: price(dto.reasoningPricePer1kTokens),
          longContextThreshold: dto.longContextThreshold ?? null,
          longContextPricePer1kTokens: price(dto.longContextPricePer1kTokens),
          longContextOutputPricePer1kTokens: price(dto.longContextOutputPricePer1kTokens),
          unitPrices: unitPricesOf(dto.unitPrices, 'unitPrices'),
          effectiveFrom: from,
          effectiveTo: to,
          notes: dto.notes ?? null,
          createdBy,
        });
        const view = toAccountPriceView(row);
        await this.audit.record(manager, {
          action: 'pricing.account.create',
          targetId: row.id,
          before: null,
          after: view,
        });
        return view;
      });
    } catch (error) {
      if (isMissingAccount(error)) throw missing();
      throw error;
    }
  }

  /** An account's prices (`accountId`, as the access guard resolved it; null: every account's). */
  async list(accountId: string | null): Promise<AccountPriceView[]> {
    return (await this.repository.accountPricesOf(accountId)).map(toAccountPriceView);
  }

  /** Deletes a price that has not started (one that has priced, or may have priced, writes stays: 409). */
  async delete(id: string): Promise<AccountPriceView> {
    return this.tx.run(async (manager) => {
      this.pricing.invalidateAtCommit();
      const row = await this.repository.lockAccountPrice(manager, id);
      if (!row) throw new NotFoundError('Account price');
      if (row.effectiveFrom.getTime() <= this.clock.now()) {
        throw new DomainError(
          'ACCOUNT_PRICE_STARTED',
          'This account price has started: writes may have been priced with it. End it with a new one instead',
        );
      }
      const view = toAccountPriceView(row);
      await this.repository.deleteAccountPrice(manager, id);
      await this.audit.record(manager, { action: 'pricing.account.delete', targetId: id, before: view, after: null });
      return view;
    });
  }
}
