import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

import { AccountIds } from '../accounts/account-ids.js';
import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { Transactions } from '../database/transactions.js';
import { MetricsService } from '../metrics/metrics.service.js';
import {
  type CorrectionMove,
  type CorrectionMoved,
  CreditCorrectionsRepository,
} from './credit-corrections.repository.js';

export type CorrectionInput = Omit<CorrectionMove, 'expiryDays' | 'rateDefault' | 'thresholds'>;

/**
 * A usage correction's credits (docs/money.md "Corrections"): one call of the engine's
 * credits_correct(), inside the caller's transaction (the usage module's, which has locked the
 * record), under the account's lock.
 */
@Injectable()
export class CreditCorrectionsService {
  constructor(
    private readonly repo: CreditCorrectionsRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(Transactions) private readonly tx: Transactions,
    @Inject(MetricsService) private readonly metrics: MetricsService,
    @Inject(AccountIds) private readonly ids: AccountIds,
  ) {}

  /** What credits_correct() takes from the configuration (for a caller that calls it in its own SQL). */
  settings(): Pick<CorrectionMove, 'expiryDays' | 'rateDefault' | 'thresholds'> {
    return {
      expiryDays: this.config.corrections.expiryDays,
      rateDefault: this.config.credits.spendRatePerHour,
      thresholds: this.config.credits.lowBalanceThresholds,
    };
  }

  /** Credits that corrections moved on balances (Σ |returned + regranted − collected − debt|): counted at commit. */
  counted(credits: number): void {
    if (credits !== 0) this.tx.afterCommit(() => this.metrics.creditsMoved('correction', credits));
  }

  async correct(manager: EntityManager, input: CorrectionInput): Promise<CorrectionMoved> {
    const accountId = await this.ids.of(manager, input.account);
    const moved = await this.repo.correct(manager, accountId, { ...input, ...this.settings() });
    const credits = moved.returned + moved.regranted - moved.collected - moved.debt;
    if (credits !== 0) this.tx.afterCommit(() => this.metrics.creditsMoved('correction', credits));
    return moved;
  }
}
