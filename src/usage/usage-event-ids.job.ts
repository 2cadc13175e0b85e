import { Inject, Injectable, Logger } from '@nestjs/common';
import { Cron, CronExpression } from '@nestjs/schedule';

import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { eventIdRetentionDays } from './late-usage.js';
import { UsageEventIdsRepository } from './usage-event-ids.repository.js';

const CLEANUP_BATCH = 10_000;

/** Hourly: deletes event ids past their retention, in batches (safe with several instances). */
@Injectable()
export class UsageEventIdsJob {
  private readonly logger = new Logger('Usage');

  constructor(
    private readonly repo: UsageEventIdsRepository,
    private readonly metrics: MetricsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Cron(CronExpression.EVERY_HOUR, { name: 'usage-event-ids-cleanup' })
  run(): Promise<void> {
    return this.metrics.runJob('usage-event-ids-cleanup', async () => {
      const deleted = await this.cleanup();
      if (deleted > 0) this.logger.log({ msg: 'deleted old event ids', count: deleted });
    });
  }

  /**
   * Deletes every id older than the retention: 35 days, or LATE_USAGE_DAYS when longer (an event is
   * remembered as long as it may still be accepted, docs/usage.md "Late usage"); returns how many.
   */
  async cleanup(): Promise<number> {
    const days = eventIdRetentionDays(this.config.corrections.lateUsageDays);
    let total = 0;
    for (;;) {
      const deleted = await this.repo.deleteOlderThan(days, CLEANUP_BATCH);
      total += deleted;
      if (deleted < CLEANUP_BATCH) return total;
    }
  }
}
