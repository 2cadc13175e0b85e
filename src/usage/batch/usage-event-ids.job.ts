import { Inject, Injectable } from '@nestjs/common';

import type { AppConfig } from '../../config/app-config.js';
import { APP_CONFIG } from '../../config/config.module.js';
import { HourlyCleanupJob, inBatches } from '../../metrics/batch-jobs.js';
import { eventIdRetentionDays } from '../late-usage.js';
import { UsageEventIdsRepository } from './usage-event-ids.repository.js';

/** Hourly: deletes event ids past their retention, in batches (safe with several instances). */
@Injectable()
export class UsageEventIdsJob extends HourlyCleanupJob({
  name: 'usage-event-ids-cleanup',
  context: 'Usage',
  msg: 'deleted old event ids',
}) {
  @Inject(UsageEventIdsRepository) private readonly repo: UsageEventIdsRepository;
  @Inject(APP_CONFIG) private readonly config: AppConfig;

  /**
   * Deletes every id older than the retention: 35 days, or LATE_USAGE_DAYS when longer (an event is
   * remembered as long as it may still be accepted, docs/usage.md "Late usage"); returns how many.
   */
  cleanup(): Promise<number> {
    const days = eventIdRetentionDays(this.config.corrections.lateUsageDays);
    return inBatches((batch) => this.repo.deleteOlderThan(days, batch));
  }
}
