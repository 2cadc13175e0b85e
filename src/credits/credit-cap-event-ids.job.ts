import { Inject, Injectable, Logger } from '@nestjs/common';
import { Cron, CronExpression } from '@nestjs/schedule';

import { Transactions } from '../database/transactions.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { CreditCapsRepository } from './credit-caps.repository.js';

/** A consuming check's eventId is kept at least 35 days (docs/features.md "Checks"). */
export const CAP_EVENT_ID_RETENTION_DAYS = 35;
const CLEANUP_BATCH = 10_000;

/** Hourly: deletes kept check answers past their retention, in batches (safe with several instances). */
@Injectable()
export class CreditCapEventIdsJob {
  private readonly logger = new Logger('Credits');

  constructor(
    private readonly repo: CreditCapsRepository,
    private readonly metrics: MetricsService,
    @Inject(Transactions) private readonly tx: Transactions,
  ) {}

  @Cron(CronExpression.EVERY_HOUR, { name: 'credit-cap-event-ids-cleanup' })
  run(): Promise<void> {
    return this.metrics.runJob('credit-cap-event-ids-cleanup', async () => {
      const deleted = await this.cleanup();
      if (deleted > 0) this.logger.log({ msg: 'deleted old check event ids', count: deleted });
    });
  }

  async cleanup(): Promise<number> {
    let total = 0;
    for (;;) {
      const deleted = await this.repo.deleteEventIdsOlderThan(
        this.tx.statementManager,
        CAP_EVENT_ID_RETENTION_DAYS,
        CLEANUP_BATCH,
      );
      total += deleted;
      if (deleted < CLEANUP_BATCH) return total;
    }
  }
}
