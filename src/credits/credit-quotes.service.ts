import { Inject, Injectable } from '@nestjs/common';

import { ACCOUNT_ACCESS, type AccountAccess, type AccountRule } from '../auth/account-access.js';
import type { AuthUser } from '../auth/roles.js';
import { DomainError } from '../common/errors/domain-error.js';
import { type Dimensions, NO_DIMENSIONS } from '../pricing/dimensions.js';
import { PricingService, type Quote } from '../pricing/pricing.service.js';
import type { TokenKinds } from '../pricing/pricing-math.js';

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
  ) {}

  async quote(
    caller: AuthUser,
    modelId: string,
    tokens: TokenKinds,
    named: { userId?: string; orgId?: string },
    dimensions: Dimensions = NO_DIMENSIONS,
  ): Promise<Quote & { entitled: boolean }> {
    const party = await this.party(caller, named);
    // The calling key's list applies as it would to a write it sent.
    const entitled = await this.pricing.entitled(modelId, party, [caller.models ?? null]);
    return { ...(await this.pricing.quote(modelId, tokens, undefined, party, dimensions)), entitled };
  }

  /**
   * The account quoted: the one named (staff: any; others: their own, or an org they are an active
   * member of, else 404 as for any outsider), else the caller's (an org key's: its org).
   */
  private async party(
    caller: AuthUser,
    named: { userId?: string; orgId?: string },
  ): Promise<{ userId: string; orgId: string | null }> {
    if (named.userId !== undefined && named.orgId !== undefined) {
      throw new DomainError('VALIDATION', 'Give userId or orgId, not both');
    }
    if (named.userId === undefined && named.orgId === undefined)
      return { userId: caller.userId, orgId: caller.orgId ?? null };
    // The one resolver and its rule (src/accounts/account-resolver.ts): staff any account, a user their own, a member their org's.
    await this.access.resolve(caller, named, QUOTE_ACCOUNTS);
    return { userId: named.userId ?? caller.userId, orgId: named.orgId ?? null };
  }
}
