import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

import type { AppConfig } from '../../config/app-config.js';
import { APP_CONFIG } from '../../config/config.module.js';
import { Transactions } from '../../database/transactions.js';
import { MetricsService } from '../../metrics/metrics.service.js';
import type { LedgerKind, Settlement } from '../credit-views.js';
import { checkSettled, givenBackByKind, toSettlement } from '../credits-results.js';
import { CreditSettlementsRepository, type SettleManyStatement } from './credit-settlements.repository.js';

/** One settlement's answer: as CreditsService.settleSession answers it alone, or its error. */
export type SettledSessionAnswer<R> = { row: R; settlement: Settlement | null } | null | Error;

/**
 * Streaming settlements that arrive together (docs/money.md "Finalizes that arrive together"), the
 * engine's verb for many: CreditsService.settleSession is the one alone.
 */
@Injectable()
export class CreditSettlementsService {
  constructor(
    private readonly repo: CreditSettlementsRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(Transactions) private readonly tx: Transactions,
    @Inject(MetricsService) private readonly metrics: MetricsService,
  ) {}

  /**
   * Many streaming settlements in ONE statement (SettleManyStatement): the caller's `session` part
   * locks and prices each item's session; every account of those to be settled is locked once, in
   * account id order, and each is settled by credits_settle() in item order, exactly as
   * settleSession() settles one alone; the caller's `writes` run for those settled. Each item answers
   * as settleSession() would alone: null when its session part found no row, `settlement` null when it
   * was not to be settled, an Error (ALREADY_SETTLED) for a hold settled already.
   */
  async settleSessions<R>(manager: EntityManager, statement: SettleManyStatement): Promise<SettledSessionAnswer<R>[]> {
    const controls = {
      rateDefault: this.config.credits.spendRatePerHour,
      thresholds: this.config.credits.lowBalanceThresholds,
    };
    const results = await this.repo.settleAndWriteMany<R>(manager, controls, statement);
    return results.map((result) => {
      if (!result?.settlement) return result && { row: result.row, settlement: null };
      try {
        checkSettled(result.settlement);
      } catch (error) {
        return error as Error;
      }
      const settlement = toSettlement(result.settlement);
      for (const [kind, amount] of givenBackByKind(result.settlement)) this.moved(kind, amount);
      this.moved('debit', settlement.collected);
      this.moved('overdraft', settlement.debt);
      return { row: result.row, settlement };
    });
  }

  /** Counts credits moved by ledger kind once (and only if) the statement commits. */
  private moved(kind: LedgerKind, amount: number): void {
    if (amount !== 0) this.tx.afterCommit(() => this.metrics.creditsMoved(kind, amount));
  }
}
