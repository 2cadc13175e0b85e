import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

import { BillingCurrencies } from '../../accounts/billing-currencies.service.js';
import { type Price, pricesOfBody } from '../../accounts/billing-currency.js';
import { AuditService } from '../../audit/audit.service.js';
import { isStaff, type ResolvedAccount } from '../../auth/account-access.js';
import type { AuthUser } from '../../auth/roles.js';
import { DomainError } from '../../common/errors/domain-error.js';
import { decodeIdCursor, DEFAULT_LIMIT, type Page, toPage } from '../../common/http/pagination.js';
import { fromMinor, toMinor } from '../../common/money/currencies.js';
import { Transactions } from '../../database/transactions.js';
import type { Package } from '../entities/package.entity.js';
import type { CreatePackageDto, ListPackagesQueryDto, PackageResponseDto, UpdatePackageDto } from './packages.dto.js';
import { PACKAGE_ID } from './packages.dto.js';
import { PackagesRepository } from './packages.repository.js';

/**
 * A package's prices, one per currency, the first being its `price`: as money is shown, in the
 * currency's minor places ("1500" jpy, "3.500" kwd).
 */
export function packagePrices(p: Pick<Package, 'priceCurrencies' | 'priceMinors'>): Price[] {
  return p.priceCurrencies.map((currency, i) => ({ amount: fromMinor(p.priceMinors[i], currency), currency }));
}

export function toPackageView(p: Package): PackageResponseDto {
  return {
    packageId: p.packageId,
    name: p.name,
    credits: p.credits,
    bonusCredits: p.bonusCredits,
    price: packagePrices(p)[0],
    prices: packagePrices(p),
    expiryDays: p.expiryDays,
    active: p.active,
    createdAt: p.createdAt.toISOString(),
  };
}

const packageNotFound = () => new DomainError('PACKAGE_NOT_FOUND', 'No such package on sale');

/**
 * The price book (docs/selling.md): what a platform sells, and the floor under the prices a purchase
 * may name itself. A package's credits and price never change; its name and whether it is on sale do.
 */
@Injectable()
export class PackagesService {
  constructor(
    private readonly repo: PackagesRepository,
    @Inject(Transactions) private readonly tx: Transactions,
    @Inject(AuditService) private readonly audit: AuditService,
    @Inject(BillingCurrencies) private readonly billing: BillingCurrencies,
  ) {}

  create(caller: AuthUser, body: CreatePackageDto): Promise<PackageResponseDto> {
    const prices = pricesOfBody(body);
    if (!prices?.length) throw new DomainError('VALIDATION', 'Give price or prices: what the package costs');
    const bonusCredits = body.bonusCredits ?? 0;
    if (body.credits + bonusCredits > 2_147_483_647) {
      throw new DomainError('VALIDATION', 'credits + bonusCredits must be at most 2147483647');
    }
    return this.tx.run(async (manager) => {
      const row = await this.repo.insert(manager, {
        packageId: body.packageId,
        name: body.name,
        credits: body.credits,
        bonusCredits,
        amount: prices[0].amount,
        currency: prices[0].currency,
        priceCurrencies: prices.map((p) => p.currency),
        priceMinors: prices.map((p) => toMinor(p.amount, p.currency).toString()),
        expiryDays: body.expiryDays ?? 365,
        active: body.active ?? true,
        createdBy: caller.userId,
      });
      if (!row) throw new DomainError('PACKAGE_EXISTS', `Package ${body.packageId} already exists`);
      const view = toPackageView(row);
      await this.audit.record(manager, {
        action: 'package.create',
        targetId: row.packageId,
        before: null,
        after: view,
      });
      return view;
    });
  }

  update(packageId: string, body: UpdatePackageDto): Promise<PackageResponseDto> {
    return this.tx.run(async (manager) => {
      const old = PACKAGE_ID.test(packageId) ? await this.repo.lock(manager, packageId) : null;
      if (!old) throw new DomainError('PACKAGE_NOT_FOUND', 'No such package');
      const before = toPackageView(old);
      const view = toPackageView(await this.repo.update(manager, packageId, { name: body.name, active: body.active }));
      await this.audit.record(manager, { action: 'package.update', targetId: packageId, before, after: view });
      return view;
    });
  }

  /** `own`: the caller's own account as the access guard resolved it (null: none yet). */
  async list(
    caller: AuthUser,
    query: ListPackagesQueryDto,
    own: ResolvedAccount | null,
  ): Promise<Page<PackageResponseDto>> {
    if (query.includeInactive && !isStaff(caller)) {
      throw new DomainError('FORBIDDEN', 'Only supervisors and admins may list packages taken off sale');
    }
    const limit = query.limit ?? DEFAULT_LIMIT;
    const after = decodeIdCursor(query.cursor, 'text');
    const rows = await this.repo.list({
      currency: query.currency,
      first: await this.billingCurrencyOf(own),
      includeInactive: query.includeInactive === true,
      after: after?.id ?? null,
      limit: limit + 1,
    });
    return toPage(rows, limit, toPackageView, (p) => ({ id: p.key }));
  }

  /** The caller's own account's billing currency (a portal session's account, an org key's org), or null. */
  private async billingCurrencyOf(account: ResolvedAccount | null): Promise<string | null> {
    return account ? this.billing.of(this.tx.statementManager, account.accountId) : null;
  }

  /** The package a purchase names, on sale; else PACKAGE_NOT_FOUND (404), the same for both. */
  async onSale(manager: EntityManager, packageId: string): Promise<Package> {
    const row = PACKAGE_ID.test(packageId) ? await this.repo.find(manager, packageId) : null;
    if (!row?.active) throw packageNotFound();
    return row;
  }

  /** A purchase priced by its caller costs at least the cheapest credit of the packages in its currency. */
  async assertAtLeastFloor(
    manager: EntityManager,
    purchase: { amount: string; credits: number; currency: string },
  ): Promise<void> {
    if (await this.repo.atLeastFloor(manager, purchase)) return;
    throw new DomainError(
      'PRICE_BELOW_PACKAGES',
      `This price per credit is below the lowest of the packages on sale in ${purchase.currency}`,
    );
  }
}
