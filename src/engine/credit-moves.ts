import { Inject, Injectable } from '@nestjs/common';

import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { Transactions } from '../database/transactions.js';
import { MetricsService } from '../metrics/metrics.service.js';
import type { GivenBack, SettlementRow } from './credit-holds.repository.js';
import type { LedgerKind, Settlement } from './credit-views.js';
import type { TakeRow } from './credits.repository.js';
import { checkSettled, givenBackByKind, takeResult, toSettlement } from './credits-results.js';

/** The spend controls' defaults, for accounts without settings of their own. */
export interface SpendControls {
  rateDefault: number | null;
  thresholds: number[];
}

/**
 * What the engine's services share behind their door: the spend controls' defaults the functions
 * take, and what each movement moved, counted by ledger kind once (and only if) it commits. Not
 * exported by the engine module.
 */
@Injectable()
export class CreditMoves {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(Transactions) private readonly tx: Transactions,
    @Inject(MetricsService) private readonly metrics: MetricsService,
  ) {}

  controls(): SpendControls {
    return { rateDefault: this.config.credits.spendRatePerHour, thresholds: this.config.credits.lowBalanceThresholds };
  }

  /** Counts credits moved by ledger kind once (and only if) the movement commits. */
  moved(kind: LedgerKind, amount: number): void {
    if (amount !== 0) this.tx.afterCommit(() => this.metrics.creditsMoved(kind, amount));
  }

  /** Counts credits moved by a statement of its own, committed already. */
  committed(kind: LedgerKind, amount: number): void {
    this.metrics.creditsMoved(kind, amount);
  }

  /** A take's outcome, its refusal thrown (by code: CreditsService.singleRefusal() names whose); what it moved counted. */
  taken(row: TakeRow, amount: number, kind: 'debit' | 'hold') {
    const result = takeResult(row, amount);
    this.moved(kind, result.collected);
    this.moved('overdraft', result.debt);
    return result;
  }

  /** A settlement's outcome, a hold settled already thrown (ALREADY_SETTLED); what it gave back and took counted. */
  settled(row: SettlementRow): Settlement {
    const settlement = toSettlement(checkSettled(row));
    this.givenBack(row);
    this.moved('debit', settlement.collected);
    this.moved('overdraft', settlement.debt);
    return settlement;
  }

  /** Counts what a give-back wrote. */
  private givenBack(row: GivenBack): void {
    for (const [kind, amount] of givenBackByKind(row)) this.moved(kind, amount);
  }
}
