import { Inject, Injectable, Logger } from '@nestjs/common';
import { Cron, CronExpression } from '@nestjs/schedule';

import { CLOCK, type Clock } from '../../common/clock.js';
import { loggingCount } from '../../metrics/batch-jobs.js';
import { MetricsService } from '../../metrics/metrics.service.js';
import { CreditLedgerDaysRepository } from './credit-ledger-days.repository.js';

/**
 * How old the day sums may be before a roll-forward of all accounts brings them forward itself (the
 * job does it every minute): what it sums live is then at most about a minute of lines.
 */
export const DAYS_FRESH_MS = 60_000;

/**
 * The roll-forward's sums by day (docs/finance.md "The sums by day"): once a minute, and before a
 * roll-forward of all accounts when they are older than DAYS_FRESH_MS, brought forward over the
 * ledger lines written since, step by step (CreditLedgerDaysRepository.step()). One fill at a time
 * across instances: a second one finds the row locked and leaves.
 */
@Injectable()
export class CreditLedgerDaysJob {
  private readonly logger = new Logger('Credits');

  constructor(
    private readonly repo: CreditLedgerDaysRepository,
    private readonly metrics: MetricsService,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  @Cron(CronExpression.EVERY_MINUTE, { name: 'credit-ledger-days' })
  run(): Promise<void> {
    const work = loggingCount('Credits', 'ledger lines added to the day sums', () => this.fill());
    return this.metrics.runJob('credit-ledger-days', work);
  }

  /** Brings the sums forward until they cover every line of the transactions that have ended; the lines added. */
  async fill(): Promise<number> {
    let lines = 0;
    for (;;) {
      const step = await this.repo.step(new Date(this.clock.now()));
      if (step === null) return lines;
      lines += step.lines;
      if (step.caughtUp) return lines;
    }
  }

  /**
   * fill() when the sums were brought forward more than DAYS_FRESH_MS ago. Only a matter of speed (a
   * report reads what they do not cover live), so a failure is logged and the report goes on.
   */
  async fillWhenStale(): Promise<void> {
    try {
      const at = await this.repo.filledAt();
      if (at !== null && this.clock.now() - at.getTime() < DAYS_FRESH_MS) return;
      await this.fill();
    } catch (error) {
      this.logger.warn({
        msg: 'day sums not brought forward',
        err: error instanceof Error ? error.message : String(error),
      });
    }
  }
}
