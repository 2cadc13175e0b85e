import { Inject, Injectable } from '@nestjs/common';
import { Cron, CronExpression } from '@nestjs/schedule';

import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { inBatches, loggingCount } from '../metrics/batch-jobs.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { eventIdRetentionDays } from './late-usage.js';
import { UsageEventIdsRepository } from './usage-event-ids.repository.js';

/** Hourly: deletes event ids past their retention, in batches (safe with several instances). */
@Injectable()
export class UsageEventIdsJob {
  constructor(
    private readonly repo: UsageEventIdsRepository,
    private readonly metrics: MetricsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Cron(CronExpression.EVERY_HOUR, { name: 'usage-event-ids-cleanup' })
  run(): Promise<void> {
    const work = loggingCount('Usage', 'deleted old event ids', () => this.cleanup());
    return this.metrics.runJob('usage-event-ids-cleanup', work);
  }

  /**
   * Deletes every id older than the retention: 35 days, or LATE_USAGE_DAYS when longer (an event is
   * remembered as long as it may still be accepted, docs/usage.md "Late usage"); returns how many.
   */
  cleanup(): Promise<number> {
    const days = eventIdRetentionDays(this.config.corrections.lateUsageDays);
    return inBatches((batch) => this.repo.deleteOlderThan(days, batch));
  }
}
