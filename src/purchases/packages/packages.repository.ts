import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { EntityManager, Repository } from 'typeorm';

import { insertNew } from '../../database/insert-new.js';
import { Package } from '../entities/package.entity.js';

export type NewPackage = Pick<
  Package,
  'packageId' | 'name' | 'credits' | 'bonusCredits' | 'amount' | 'currency' | 'expiryDays' | 'active' | 'createdBy'
>;

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

  /** Packages by id, after `afterId`: the active ones, or all with `includeInactive`. */
  list(query: { currency?: string; includeInactive: boolean; afterId: string | null; limit: number }) {
    const q = this.packages.createQueryBuilder('p').orderBy('p.package_id', 'ASC').limit(query.limit);
    if (!query.includeInactive) q.andWhere('p.active');
    if (query.currency !== undefined) q.andWhere('p.currency = :currency', { currency: query.currency });
    if (query.afterId !== null) q.andWhere('p.package_id > :afterId', { afterId: query.afterId });
    return q.getMany();
  }

  /**
   * Whether `amount` for `credits` in `currency` costs at least the lowest price per credit among the
   * active packages in it (`amount ÷ (credits + bonus_credits)`), compared as products of numerics,
   * exactly: a ÷ c ≥ A ÷ C ⟺ a × C ≥ A × c. True when the currency has no active package.
   */
  async atLeastFloor(
    manager: EntityManager,
    input: { amount: string; credits: number; currency: string },
  ): Promise<boolean> {
    const rows: { ok: boolean | null }[] = await manager.query(
      `SELECT bool_or($1::numeric * (p.credits + p.bonus_credits) >= p.amount * $2::bigint) AS ok
         FROM packages p WHERE p.active AND p.currency = $3`,
      [input.amount, input.credits, input.currency],
    );
    return rows[0]?.ok ?? true;
  }
}
