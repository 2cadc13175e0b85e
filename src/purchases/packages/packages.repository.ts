import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { EntityManager, Repository } from 'typeorm';

import { moneySql } from '../../common/money/currencies.js';
import { insertNew } from '../../database/insert-new.js';
import { Package } from '../entities/package.entity.js';

export type NewPackage = Pick<
  Package,
  | 'packageId'
  | 'name'
  | 'credits'
  | 'bonusCredits'
  | 'amount'
  | 'currency'
  | 'priceCurrencies'
  | 'priceMinors'
  | 'expiryDays'
  | 'active'
  | 'createdBy'
>;

/** The key packages list by: `0` before the id of one priced in the caller's currency, else `1`. */
const ORDER_KEY = `(CASE WHEN CAST(:first AS varchar) = ANY(p.price_currencies) THEN '0' ELSE '1' END) || p.package_id`;

/** The price book's rows: TypeORM for the plain reads and writes, SQL for the floor. */
@Injectable()
export class PackagesRepository {
  constructor(@InjectRepository(Package) private readonly packages: Repository<Package>) {}

  /** The new package; null when its id is taken. */
  insert(manager: EntityManager, input: NewPackage): Promise<Package | null> {
    return insertNew(manager, Package, input, { packageId: input.packageId });
  }

  /** The package locked (FOR UPDATE), or null. */
  lock(manager: EntityManager, packageId: string): Promise<Package | null> {
    return manager.findOne(Package, { where: { packageId }, lock: { mode: 'pessimistic_write' } });
  }

  async update(
    manager: EntityManager,
    packageId: string,
    change: { name?: string; active?: boolean },
  ): Promise<Package> {
    await manager.update(Package, { packageId }, { ...change, updatedAt: () => 'now()' });
    return (await manager.findOneBy(Package, { packageId }))!;
  }

  find(manager: EntityManager, packageId: string): Promise<Package | null> {
    return manager.findOneBy(Package, { packageId });
  }

  /**
   * Packages after `after` in list order: those priced in `first` (the caller's billing currency)
   * first, then by id; the active ones, or all with `includeInactive`. Each answers its `key` (the
   * order's, for the cursor).
   */
  async list(query: {
    currency?: string;
    first: string | null;
    includeInactive: boolean;
    after: string | null;
    limit: number;
  }): Promise<(Package & { key: string })[]> {
    const q = this.packages
      .createQueryBuilder('p')
      .addSelect(ORDER_KEY, 'order_key')
      .setParameter('first', query.first)
      .orderBy(ORDER_KEY, 'ASC')
      .limit(query.limit);
    if (!query.includeInactive) q.andWhere('p.active');
    if (query.currency !== undefined) {
      q.andWhere('CAST(:currency AS varchar) = ANY(p.price_currencies)', { currency: query.currency });
    }
    if (query.after !== null) q.andWhere(`${ORDER_KEY} > :after`, { after: query.after });
    const { entities, raw } = await q.getRawAndEntities<{ order_key: string }>();
    return entities.map((p, i) => Object.assign(p, { key: raw[i].order_key }));
  }

  /**
   * Whether `amount` for `credits` in `currency` costs at least the lowest price per credit among the
   * active packages' prices in it (`amount ÷ (credits + bonus_credits)`), compared as products of numerics,
   * exactly: a ÷ c ≥ A ÷ C ⟺ a × C ≥ A × c. True when the currency has no active package.
   */
  async atLeastFloor(
    manager: EntityManager,
    input: { amount: string; credits: number; currency: string },
  ): Promise<boolean> {
    const rows: { ok: boolean | null }[] = await manager.query(
      `SELECT bool_or($1::numeric * (p.credits + p.bonus_credits) >= ${moneySql('price.minor', 'price.currency')} * $2::bigint) AS ok
         FROM packages p, unnest(p.price_currencies, p.price_minors) AS price(currency, minor)
        WHERE p.active AND $3::varchar = ANY(p.price_currencies) AND price.currency = $3`,
      [input.amount, input.credits, input.currency],
    );
    return rows[0]?.ok ?? true;
  }
}
