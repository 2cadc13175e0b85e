import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

import { AuditService } from '../../audit/audit.service.js';
import { isStaff } from '../../auth/account-access.js';
import type { AuthUser } from '../../auth/roles.js';
import { DomainError } from '../../common/errors/domain-error.js';
import { decodeIdCursor, DEFAULT_LIMIT, type Page, toPage } from '../../common/http/pagination.js';
import { Transactions } from '../../database/transactions.js';
import type { Package } from '../entities/package.entity.js';
import { toCents } from '../purchase-money.js';
import type { CreatePackageDto, ListPackagesQueryDto, PackageResponseDto, UpdatePackageDto } from './packages.dto.js';
import { PACKAGE_ID } from './packages.dto.js';
import { PackagesRepository } from './packages.repository.js';

export function toPackageView(p: Package): PackageResponseDto {
  return {
    packageId: p.packageId,
    name: p.name,
    credits: p.credits,
    bonusCredits: p.bonusCredits,
    price: { amount: p.amount, currency: p.currency },
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
  ) {}

  create(caller: AuthUser, body: CreatePackageDto): Promise<PackageResponseDto> {
    if (toCents(body.price.amount) <= 0n) throw new DomainError('VALIDATION', 'price.amount must be greater than 0');
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
        amount: body.price.amount,
        currency: body.price.currency,
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

  async list(caller: AuthUser, query: ListPackagesQueryDto): Promise<Page<PackageResponseDto>> {
    if (query.includeInactive && !isStaff(caller)) {
      throw new DomainError('FORBIDDEN', 'Only supervisors and admins may list packages taken off sale');
    }
    const limit = query.limit ?? DEFAULT_LIMIT;
    const after = decodeIdCursor(query.cursor, 'text');
    const rows = await this.repo.list({
      currency: query.currency,
      includeInactive: query.includeInactive === true,
      afterId: after?.id ?? null,
      limit: limit + 1,
    });
    return toPage(rows, limit, toPackageView, (p) => ({ id: p.packageId }));
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
