import { Inject, Injectable } from '@nestjs/common';
import { Cron, CronExpression } from '@nestjs/schedule';

import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { Transactions } from '../database/transactions.js';
import { loggingCount } from '../metrics/batch-jobs.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { EventsRepository } from './events.repository.js';

/** Events per transaction: each batch's locks last one short transaction. */
export const RETENTION_BATCH = 1000;

/**
 * Hourly: deletes the events older than EVENT_RETENTION_DAYS, with their deliveries, in batches.
 * An event with a pending delivery stays until that delivery has succeeded or failed (at most the
 * 3-day retry window, or one more after a manual retry): a delivery sends its event's row, and the
 * contract promises at-least-once delivery. Safe on several instances at once (docs/webhooks.md).
 */
@Injectable()
export class EventRetentionJob {
  constructor(
    private readonly events: EventsRepository,
    private readonly tx: Transactions,
    private readonly metrics: MetricsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Cron(CronExpression.EVERY_HOUR, { name: 'events-retention', waitForCompletion: true })
  run(): Promise<void> {
    return this.metrics.runJob(
      'events-retention',
      loggingCount('Events', 'deleted old events', () => this.deleteExpired()),
    );
  }

  /** Deletes every event past the retention that no pending delivery needs; returns how many. */
  async deleteExpired(batch = RETENTION_BATCH): Promise<number> {
    let total = 0;
    for (;;) {
      const { locked, deleted } = await this.tx.run(async (m) => {
        const ids = await this.events.lockExpired(m, this.config.eventRetentionDays, batch);
        return { locked: ids.length, deleted: ids.length > 0 ? await this.events.deleteLocked(m, ids) : 0 };
      });
      total += deleted;
      // A short batch: nothing older is left that another instance is not already deleting.
      if (locked < batch) return total;
    }
  }
}
