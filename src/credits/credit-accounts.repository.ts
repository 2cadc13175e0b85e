import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { EntityManager, Repository } from 'typeorm';

import { CreditAccount } from './entities/credit-account.entity.js';

export type CreditSettings = Partial<
  Pick<CreditAccount, 'overdraftLimit' | 'maxCreditsPerHour' | 'lowBalanceThresholds'>
>;

/** credit_accounts through TypeORM: a user's money settings and debt (absent row: all defaults). */
@Injectable()
export class CreditAccountsRepository {
  constructor(@InjectRepository(CreditAccount) private readonly accounts: Repository<CreditAccount>) {}

  find(userId: string, manager?: EntityManager): Promise<CreditAccount | null> {
    return (manager ?? this.accounts.manager).findOneBy(CreditAccount, { userId });
  }

  /** Creates the row with defaults if missing, applies the settings, answers the row as stored. */
  async upsertSettings(manager: EntityManager, userId: string, settings: CreditSettings): Promise<CreditAccount> {
    // Keyed by the account (credit_accounts.account_id); a user's row also carries its user id.
    await manager.query(
      `INSERT INTO credit_accounts (account_id, user_id)
       SELECT a.account_id, a.user_id FROM accounts a WHERE a.user_id = $1
       ON CONFLICT DO NOTHING`,
      [userId],
    );
    if (Object.keys(settings).length > 0)
      await manager.update(CreditAccount, { userId }, { ...settings, updatedAt: () => 'now()' });
    return manager.findOneByOrFail(CreditAccount, { userId });
  }

  /** Users with debt, largest first. */
  async debtors(limit: number): Promise<{ userId: string; debt: number }[]> {
    const rows = await this.accounts
      .createQueryBuilder('c')
      .select(['c.userId', 'c.debt'])
      .where('c.debt > 0')
      .andWhere('c.userId IS NOT NULL')
      .orderBy('c.debt', 'DESC')
      .addOrderBy('c.userId')
      .limit(limit)
      .getMany();
    return rows.map((r) => ({ userId: r.userId ?? '', debt: r.debt }));
  }
}
