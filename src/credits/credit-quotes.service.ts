import { Inject, Injectable } from '@nestjs/common';

import type { AccountRule, ResolvedAccount } from '../auth/account-access.js';
import type { BodyNamed } from '../auth/auth.decorator.js';
import type { AuthUser } from '../auth/roles.js';
import { DomainError } from '../common/errors/domain-error.js';
import { type Dimensions, NO_DIMENSIONS } from '../pricing/dimensions.js';
import { PricingService, type Quote } from '../pricing/pricing.service.js';
import type { TokenKinds } from '../pricing/pricing-math.js';
import { SteppedQuotes } from '../pricing/quotes/stepped-quotes.service.js';

/** Whose writes a caller may price: staff any account's, a user their own, a member their org's (the route's `body` rule). */
export const QUOTE_ACCOUNTS: AccountRule = { user: 'holder', org: 'member', what: 'price its writes' };

/**
 * POST /api/credits/calculate: what a write of these tokens would cost the account, and whether the
 * account may use the model — priced as a write is (the account price in force over the rule), by
 * the same PricingService calls.
 */
@Injectable()
export class CreditQuotesService {
  constructor(
    @Inject(PricingService) private readonly pricing: PricingService,
    @Inject(SteppedQuotes) private readonly steps: SteppedQuotes,
  ) {}

  /**
   * `own`: the caller's own account, as the access guard resolved it, priced when the body names none;
   * `account`: the one it names, as the guard resolved it under QUOTE_ACCOUNTS.
   */
  async quote(
    caller: AuthUser,
    own: ResolvedAccount,
    modelId: string,
    tokens: TokenKinds,
    named: { userId?: string; orgId?: string; account: BodyNamed },
    dimensions: Dimensions = NO_DIMENSIONS,
  ): Promise<Quote & { entitled: boolean; volumeStep: number | null }> {
    const accountId = this.accountOf(own, named);
    // The calling key's list applies as it would to a write it sent.
    const entitled = await this.pricing.entitled(modelId, accountId, [caller.models ?? null]);
    const quote = await this.pricing.quote(modelId, tokens, undefined, accountId, dimensions);
    const stepped = await this.steps.stepped(accountId, modelId, quote, tokens);
    return { ...quote, ...stepped, entitled };
  }

  /**
   * The id of the account quoted: the one named (staff: any; others: their own, or an org they are an
   * active member of, else 404 as for any outsider), else the caller's own (an org key's: its org),
   * as the access guard read it (null: the owner named has no account).
   */
  private accountOf(
    own: ResolvedAccount,
    named: { userId?: string; orgId?: string; account: BodyNamed },
  ): string | null {
    if (named.userId !== undefined && named.orgId !== undefined) {
      throw new DomainError('VALIDATION', 'Give userId or orgId, not both');
    }
    if (named.userId === undefined && named.orgId === undefined) return own.accountId;
    // The one rule (src/auth/account-access.ts), applied by the guard: staff any account, a user their own, a member their org's.
    return named.account.take()?.accountId ?? null;
  }
}
