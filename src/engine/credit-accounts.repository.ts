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

  /** The account's settings row (a user's or an org's); null when it has none (all defaults) or no account. */
  async find(accountId: string | null, manager: EntityManager = this.accounts.manager): Promise<CreditAccount | null> {
    return accountId === null ? null : manager.findOneBy(CreditAccount, { accountId });
  }

  /** Creates the row with defaults if missing, applies the settings, answers the row as stored. */
  async upsertSettings(manager: EntityManager, accountId: string, settings: CreditSettings): Promise<CreditAccount> {
    // Keyed by the account (credit_accounts.account_id), which alone says whose it is.
    await manager.query(`INSERT INTO credit_accounts (account_id) VALUES ($1::bigint) ON CONFLICT DO NOTHING`, [
      accountId,
    ]);
    if (Object.keys(settings).length > 0)
      await manager.update(CreditAccount, { accountId }, { ...settings, updatedAt: () => 'now()' });
    return manager.findOneByOrFail(CreditAccount, { accountId });
  }

  /** Accounts with debt, a user's or an organisation's, largest first. */
  async debtors(limit: number): Promise<{ userId: string | null; orgId: string | null; debt: number }[]> {
    const rows: { user_id: string | null; org_id: string | null; debt: number }[] = await this.accounts.query(
      `SELECT a.user_id, a.org_id, c.debt FROM credit_accounts c JOIN accounts a ON a.account_id = c.account_id
        WHERE c.debt > 0
        ORDER BY c.debt DESC, a.account_id LIMIT $1`,
      [limit],
    );
    return rows.map((r) => ({ userId: r.user_id, orgId: r.org_id, debt: r.debt }));
  }

  /**
   * What a write on a rule with volume steps (`volume`, as volumeCharge() builds it) would be charged
   * now against the account's period total: credit_volume_price(), the take's own decision, read
   * outside the lock (a quote, not a charge).
   */
  async volumePrice(
    m: EntityManager,
    accountId: string | null,
    volume: object,
  ): Promise<{ credits: number; step: number }> {
    const rows: { credits: number; step: number }[] = await m.query(
      `SELECT v.out_amount AS credits, v.out_step AS step FROM credit_volume_price($1::bigint, $2::jsonb) v`,
      [accountId, JSON.stringify(volume)],
    );
    return rows[0];
  }
}
