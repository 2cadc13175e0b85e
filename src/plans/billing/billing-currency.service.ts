import { Inject, Injectable } from '@nestjs/common';

import { BillingCurrencies } from '../../accounts/billing-currencies.service.js';
import { currencyMismatch } from '../../accounts/billing-currency.js';
import type { BillingDesk } from '../../accounts/billing-desk.js';
import type { BillingCurrencyResponseDto, PutBillingCurrencyDto } from '../../accounts/dto/billing-currency.dto.js';
import { AuditService } from '../../audit/audit.service.js';
import type { ResolvedAccount } from '../../auth/account-access.js';
import { accountView } from '../../auth/account-views.js';
import type { BodyNamed } from '../../auth/auth.decorator.js';
import { DomainError, NotFoundError } from '../../common/errors/domain-error.js';
import { currencyProblem } from '../../common/money/currencies.js';
import { Transactions } from '../../database/transactions.js';
import { CreditAccountsService } from '../../engine/credit-accounts.service.js';
import { PlansRepository } from '../plans.repository.js';

/**
 * An admin's choice of an account's billing currency (docs/selling.md "Prices in several
 * currencies"), under the account lock, audited `account.billing_currency`. Its subscription's plan
 * (and a scheduled one), when priced, must have a price in it, or its next allowance could not be
 * paid in it: 409 CURRENCY_MISMATCH, nothing written. Here, beside the subscriptions it reads; the
 * route is the accounts folder's (AccountRoutesModule), handed this desk.
 */
@Injectable()
export class BillingCurrencyService implements BillingDesk {
  constructor(
    private readonly plans: PlansRepository,
    private readonly billing: BillingCurrencies,
    private readonly locks: CreditAccountsService,
    private readonly audit: AuditService,
    @Inject(Transactions) private readonly tx: Transactions,
  ) {}

  /** `named`: the account the body names, as the access guard resolved it (BILLING_SETTERS). */
  async put(body: PutBillingCurrencyDto, named: BodyNamed): Promise<BillingCurrencyResponseDto> {
    const problem = currencyProblem(body.currency);
    if (problem !== null) throw new DomainError('VALIDATION', problem);
    if ((body.userId === undefined) === (body.orgId === undefined)) {
      throw new DomainError('VALIDATION', 'Give exactly one of userId and orgId');
    }
    const owner: Pick<ResolvedAccount, 'kind' | 'ownerId'> =
      body.orgId !== undefined ? { kind: 'org', ownerId: body.orgId } : { kind: 'user', ownerId: body.userId! };
    const missing = () => new NotFoundError(owner.kind === 'org' ? 'Org' : 'User');
    const account = named.take();
    if (!account) throw missing();
    return this.tx.run(async (m) => {
      if (!(await this.locks.lockAccount(m, account.accountId))) throw missing();
      const live = await this.plans.findLiveSubscription(m, account.accountId);
      for (const planId of [live?.planId, live?.scheduledPlanId]) {
        const plan = planId ? await this.plans.findPlan(m, planId) : null;
        if (plan && plan.priceCurrencies.length > 0 && !plan.priceCurrencies.includes(body.currency)) {
          throw currencyMismatch(`The account’s plan ${plan.id} has no price in ${body.currency}`);
        }
      }
      const before = await this.billing.set(m, account.accountId, body.currency);
      const named = accountView(owner.kind, owner.ownerId);
      await this.audit.record(m, {
        action: 'account.billing_currency',
        targetId: owner.ownerId,
        targetType: owner.kind,
        before: { ...named, billingCurrency: before },
        after: { ...named, billingCurrency: body.currency },
      });
      return { ...named, billingCurrency: body.currency };
    });
  }
}
