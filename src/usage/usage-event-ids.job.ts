import { Injectable, Logger } from '@nestjs/common';
import { Cron, CronExpression } from '@nestjs/schedule';

import { MetricsService } from '../metrics/metrics.service.js';
import { UsageEventIdsRepository } from './usage-event-ids.repository.js';

/** Batch event ids are kept at least 35 days (docs/usage.md "Batch ingestion"); older ones are deleted. */
export const EVENT_ID_RETENTION_DAYS = 35;
const CLEANUP_BATCH = 10_000;

/** Hourly: deletes event ids past their retention, in batches (safe with several instances). */
@Injectable()
export class UsageEventIdsJob {
  private readonly logger = new Logger('Usage');

  constructor(
    private readonly repo: UsageEventIdsRepository,
    private readonly metrics: MetricsService,
  ) {}

  @Cron(CronExpression.EVERY_HOUR, { name: 'usage-event-ids-cleanup' })
  run(): Promise<void> {
    return this.metrics.runJob('usage-event-ids-cleanup', async () => {
      const deleted = await this.cleanup();
      if (deleted > 0) this.logger.log({ msg: 'deleted old event ids', count: deleted });
    });
  }

  /** Deletes every id older than the retention; returns how many. */
  async cleanup(): Promise<number> {
    let total = 0;
    for (;;) {
      const deleted = await this.repo.deleteOlderThan(EVENT_ID_RETENTION_DAYS, CLEANUP_BATCH);
      total += deleted;
      if (deleted < CLEANUP_BATCH) return total;
    }
  }
}
