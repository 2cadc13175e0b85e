import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { EntityManager, Repository } from 'typeorm';

import type { AccountRef } from '../accounts/account-ref.js';
import { CreditAccount } from './entities/credit-account.entity.js';

export type CreditSettings = Partial<
  Pick<CreditAccount, 'overdraftLimit' | 'maxCreditsPerHour' | 'lowBalanceThresholds'>
>;

/** credit_accounts through TypeORM: a user's money settings and debt (absent row: all defaults). */
@Injectable()
export class CreditAccountsRepository {
  constructor(@InjectRepository(CreditAccount) private readonly accounts: Repository<CreditAccount>) {}

  /** The account's settings row (a user's or an org's); null when it has none (all defaults). */
  async find(account: AccountRef, manager: EntityManager = this.accounts.manager): Promise<CreditAccount | null> {
    const accountId = await this.accountIdOf(manager, account);
    return accountId === null ? null : manager.findOneBy(CreditAccount, { accountId });
  }

  /** Creates the row with defaults if missing, applies the settings, answers the row as stored. */
  async upsertSettings(manager: EntityManager, account: AccountRef, settings: CreditSettings): Promise<CreditAccount> {
    // Keyed by the account (credit_accounts.account_id), which alone says whose it is.
    const rows: { account_id: string }[] = await manager.query(
      `INSERT INTO credit_accounts (account_id)
       SELECT a.account_id FROM accounts a WHERE a.account_id = credit_account_of($1, $2)
       ON CONFLICT DO NOTHING RETURNING account_id`,
      [account.kind, account.id],
    );
    const accountId = rows[0]?.account_id ?? (await this.accountIdOf(manager, account));
    if (accountId === null) throw new Error(`No account for ${account.kind} ${account.id}`);
    if (Object.keys(settings).length > 0)
      await manager.update(CreditAccount, { accountId }, { ...settings, updatedAt: () => 'now()' });
    return manager.findOneByOrFail(CreditAccount, { accountId });
  }

  private async accountIdOf(manager: EntityManager, account: AccountRef): Promise<string | null> {
    const rows: { id: string | null }[] = await manager.query(`SELECT credit_account_of($1, $2) AS id`, [
      account.kind,
      account.id,
    ]);
    return rows[0].id;
  }

  /** Users with debt, largest first. */
  async debtors(limit: number): Promise<{ userId: string; debt: number }[]> {
    const rows: { user_id: string; debt: number }[] = await this.accounts.query(
      `SELECT a.user_id, c.debt FROM credit_accounts c JOIN accounts a ON a.account_id = c.account_id
        WHERE c.debt > 0 AND a.user_id IS NOT NULL
        ORDER BY c.debt DESC, a.user_id LIMIT $1`,
      [limit],
    );
    return rows.map((r) => ({ userId: r.user_id, debt: r.debt }));
  }
}
