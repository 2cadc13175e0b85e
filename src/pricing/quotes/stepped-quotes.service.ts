import { Inject, Injectable } from '@nestjs/common';

import type { AppConfig } from '../../config/app-config.js';
import { APP_CONFIG } from '../../config/config.module.js';
import { Transactions } from '../../database/transactions.js';
import { CreditAccountsService } from '../../engine/credit-accounts.service.js';
import type { Quote } from '../pricing.service.js';
import type { TokenKinds } from '../pricing-math.js';
import { volumeCharge } from '../volume-steps.js';

/**
 * A quote on a rule with volume steps priced at the step the account's period total would reach
 * (docs/pricing.md "Volume steps"): what a record of these tokens would be charged now. The streaming
 * hold's estimate and POST /api/credits/calculate ask it here, beside the quote, so neither reaches
 * up to the credits tenants; the period total is the engine's (CreditAccountsService.volumePrice()).
 */
@Injectable()
export class SteppedQuotes {
  constructor(
    @Inject(CreditAccountsService) private readonly accounts: CreditAccountsService,
    @Inject(Transactions) private readonly tx: Transactions,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /**
   * The quote's credits at the account's volume step, with the step (null: a rule without steps, the
   * quote as it is). `accountId`: the account's, resolved at the edge (null: none).
   */
  async stepped(
    accountId: string | null,
    modelId: string,
    quote: Quote,
    tokens: TokenKinds,
  ): Promise<{ credits: number; volumeStep: number | null }> {
    if (quote.volume === null) return { credits: quote.credits, volumeStep: null };
    const total = Object.values(tokens).reduce((sum, n) => sum + n, 0);
    const charge = volumeCharge(modelId, quote.volume, total, null, this.config.corrections.expiryDays);
    const { credits, step } = await this.accounts.volumePrice(this.tx.statementManager, accountId, charge);
    return { credits, volumeStep: step };
  }
}
