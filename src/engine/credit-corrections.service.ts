import { Inject, Injectable } from '@nestjs/common';

import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { Transactions } from '../database/transactions.js';
import { MetricsService } from '../metrics/metrics.service.js';

/** What the engine's credits_correct() takes from the configuration. */
export interface CorrectionSettings {
  /** CORRECTION_EXPIRY_DAYS: the life of a `correction` allocation. */
  expiryDays: number;
  rateDefault: number | null;
  thresholds: number[];
}

/**
 * A usage correction's credits (docs/money.md "Corrections"): the usage module's
 * usage_records_correct() calls the engine's credits_correct() in its own statement, under the
 * accounts' locks; this is what it needs from the credits module: the settings it passes on, and the
 * credits moved counted at commit.
 */
@Injectable()
export class CreditCorrectionsService {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(Transactions) private readonly tx: Transactions,
    @Inject(MetricsService) private readonly metrics: MetricsService,
  ) {}

  /** What credits_correct() takes from the configuration. */
  settings(): CorrectionSettings {
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
}
