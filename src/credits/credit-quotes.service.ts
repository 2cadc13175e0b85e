import { Inject, Injectable } from '@nestjs/common';

import { accountNamed } from '../accounts/account-ref.js';
import { ACCOUNT_ACCESS, type AccountAccess, type AccountRule, type ResolvedAccount } from '../auth/account-access.js';
import type { AuthUser } from '../auth/roles.js';
import { DomainError } from '../common/errors/domain-error.js';
import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { Transactions } from '../database/transactions.js';
import { type Dimensions, NO_DIMENSIONS } from '../pricing/dimensions.js';
import { PricingService, type Quote } from '../pricing/pricing.service.js';
import type { TokenKinds } from '../pricing/pricing-math.js';
import { volumeCharge } from '../pricing/volume-steps.js';
import { CreditReadsRepository } from './balances/credit-reads.repository.js';

/** Whose writes a caller may price: staff any account's, a user their own, a member their org's. */
const QUOTE_ACCOUNTS: AccountRule = { user: 'holder', org: 'member', what: 'price its writes' };

/**
 * POST /api/credits/calculate: what a write of these tokens would cost the account, and whether the
 * account may use the model — priced as a write is (the account price in force over the rule), by
 * the same PricingService calls.
 */
@Injectable()
export class CreditQuotesService {
  constructor(
    @Inject(PricingService) private readonly pricing: PricingService,
    @Inject(ACCOUNT_ACCESS) private readonly access: AccountAccess,
    @Inject(Transactions) private readonly tx: Transactions,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly reads: CreditReadsRepository,
  ) {}

  /** `own`: the caller's own account, as the access guard resolved it, priced when the body names none. */
  async quote(
    caller: AuthUser,
    own: ResolvedAccount,
    modelId: string,
    tokens: TokenKinds,
    named: { userId?: string; orgId?: string },
    dimensions: Dimensions = NO_DIMENSIONS,
  ): Promise<Quote & { entitled: boolean; volumeStep: number | null }> {
    const { party, accountId } = await this.party(caller, own, named);
    // The calling key's list applies as it would to a write it sent.
    const entitled = await this.pricing.entitled(modelId, party, [caller.models ?? null]);
    const quote = await this.pricing.quote(modelId, tokens, undefined, party, dimensions);
    const stepped = await this.stepped(accountId, modelId, quote, tokens);
    return { ...quote, ...stepped, entitled };
  }

  /**
   * A quote on a rule with volume steps priced at the step the account's period total would reach
   * (docs/pricing.md "Volume steps"): what a record of these tokens would be charged now. The quote as
   * it is without steps (volumeStep null). `accountId`: the account's, resolved at the edge (null: none).
   */
  async stepped(
    accountId: string | null,
    modelId: string,
    quote: Quote,
    tokens: TokenKinds,
  ): Promise<{ credits: number; volumeStep: number | null }> {
    if (quote.volume === null) return { credits: quote.credits, volumeStep: null };
    const manager = this.tx.statementManager;
    const total = Object.values(tokens).reduce((sum, n) => sum + n, 0);
    const charge = volumeCharge(modelId, quote.volume, total, null, this.config.corrections.expiryDays);
    const { credits, step } = await this.reads.volumePrice(manager, accountId, charge);
    return { credits, volumeStep: step };
  }

  /**
   * The account quoted: the one named (staff: any; others: their own, or an org they are an active
   * member of, else 404 as for any outsider), else the caller's own (an org key's: its org), with
   * the account's id as the resolver read it.
   */
  private async party(
    caller: AuthUser,
    own: ResolvedAccount,
    named: { userId?: string; orgId?: string },
  ): Promise<{ party: Pick<ResolvedAccount, 'kind' | 'ownerId'>; accountId: string | null }> {
    if (named.userId !== undefined && named.orgId !== undefined) {
      throw new DomainError('VALIDATION', 'Give userId or orgId, not both');
    }
    if (named.userId === undefined && named.orgId === undefined) return { party: own, accountId: own.accountId };
    // The one resolver and its rule (src/accounts/account-resolver.ts): staff any account, a user their own, a member their org's.
    const account = await this.access.resolve(caller, named, QUOTE_ACCOUNTS);
    return {
      party: accountNamed(named.orgId ?? null, named.userId ?? caller.userId),
      accountId: account?.accountId ?? null,
    };
  }
}
