import { Inject, Injectable } from '@nestjs/common';
import { Cron, CronExpression } from '@nestjs/schedule';

import { Transactions } from '../database/transactions.js';
import { inBatches, loggingCount } from '../metrics/batch-jobs.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { CreditCapsRepository } from './credit-caps.repository.js';

/** A consuming check's eventId is kept at least 35 days (docs/features.md "Checks"). */
export const CAP_EVENT_ID_RETENTION_DAYS = 35;

/** Hourly: deletes kept check answers past their retention, in batches (safe with several instances). */
@Injectable()
export class CreditCapEventIdsJob {
  constructor(
    private readonly repo: CreditCapsRepository,
    private readonly metrics: MetricsService,
    @Inject(Transactions) private readonly tx: Transactions,
  ) {}

  @Cron(CronExpression.EVERY_HOUR, { name: 'credit-cap-event-ids-cleanup' })
  run(): Promise<void> {
    const work = loggingCount('Credits', 'deleted old check event ids', () => this.cleanup());
    return this.metrics.runJob('credit-cap-event-ids-cleanup', work);
  }

  /** Deletes every kept answer older than the retention; returns how many. */
  cleanup(): Promise<number> {
    const m = this.tx.statementManager;
    return inBatches((batch) => this.repo.deleteEventIdsOlderThan(m, CAP_EVENT_ID_RETENTION_DAYS, batch));
  }
}
