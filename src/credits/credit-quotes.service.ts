import { Inject, Injectable } from '@nestjs/common';

import { mayAccessUser } from '../auth/access.js';
import type { AuthUser } from '../auth/roles.js';
import { DomainError, NotFoundError } from '../common/errors/domain-error.js';
import { Transactions } from '../database/transactions.js';
import { PricingService, type Quote } from '../pricing/pricing.service.js';
import type { TokenKinds } from '../pricing/pricing-math.js';
import { CreditReadsRepository } from './credit-reads.repository.js';

/**
 * POST /api/credits/calculate: what a write of these tokens would cost the account, and whether the
 * account may use the model — priced as a write is (the account price in force over the rule), by
 * the same PricingService calls.
 */
@Injectable()
export class CreditQuotesService {
  constructor(
    @Inject(PricingService) private readonly pricing: PricingService,
    @Inject(Transactions) private readonly tx: Transactions,
    private readonly reads: CreditReadsRepository,
  ) {}

  async quote(
    caller: AuthUser,
    modelId: string,
    tokens: TokenKinds,
    named: { userId?: string; orgId?: string },
  ): Promise<Quote & { entitled: boolean }> {
    const party = await this.party(caller, named);
    // The calling key's list applies as it would to a write it sent.
    const entitled = await this.pricing.entitled(modelId, party, [caller.models ?? null]);
    return { ...(await this.pricing.quote(modelId, tokens, new Date(), party)), entitled };
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
    if (named.userId !== undefined) {
      if (!mayAccessUser(caller, named.userId)) throw new NotFoundError('User');
      return { userId: named.userId, orgId: null };
    }
    if (named.orgId !== undefined) {
      if (!mayAccessUser(caller, undefined)) {
        const role = await this.reads.memberRole(this.tx.statementManager, named.orgId, caller.userId);
        if (role === null) throw new NotFoundError('Organisation');
      }
      return { userId: caller.userId, orgId: named.orgId };
    }
    return { userId: caller.userId, orgId: caller.orgId ?? null };
  }
}
