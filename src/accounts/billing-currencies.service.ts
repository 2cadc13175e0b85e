import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

import { AccountsRepository } from './accounts.repository.js';
import { currencyMismatch } from './billing-currency.js';

/**
 * An account's billing currency (docs/selling.md "Prices in several currencies"): what it pays in,
 * null until its first paid purchase or first priced subscription sets it (charge()), or an admin
 * does. Every change runs under the account lock, which the caller took (the engine's CreditAccountsService.lockAccount()), so
 * two first payments in different currencies at once cannot both set it: the second waits for the
 * lock, then reads the first's currency.
 */
@Injectable()
export class BillingCurrencies {
  constructor(private readonly repo: AccountsRepository) {}

  /** The account's billing currency, or null. */
  of(manager: EntityManager, accountId: string): Promise<string | null> {
    return this.repo.billingCurrency(manager, accountId);
  }

  /**
   * A payment in `currency` by the account, under its lock: sets the billing currency when it has
   * none; another currency than the one it has → CURRENCY_MISMATCH (409), nothing written.
   */
  async charge(manager: EntityManager, accountId: string, currency: string): Promise<void> {
    const billing = await this.repo.billingCurrency(manager, accountId);
    if (billing === null) await this.repo.setBillingCurrency(manager, accountId, currency);
    else if (billing !== currency) throw currencyMismatch(`This account pays in ${billing}, not ${currency}`);
  }

  /** An admin's choice, under the account lock: the old currency, then the new one is set. */
  async set(manager: EntityManager, accountId: string, currency: string): Promise<string | null> {
    const before = await this.repo.billingCurrency(manager, accountId);
    if (before !== currency) await this.repo.setBillingCurrency(manager, accountId, currency);
    return before;
  }
}
