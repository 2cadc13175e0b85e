import { Inject, Injectable, Logger } from '@nestjs/common';
import { Cron, CronExpression } from '@nestjs/schedule';

import { CLOCK, type Clock } from '../common/clock.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { PromotionsRepository } from './promotions.repository.js';

/** Refusal counters are kept a day: far past the hour each counts (docs/selling.md "Guessing"). */
export const PROMOTION_FAILURE_RETENTION_MS = 86_400_000;
const CLEANUP_BATCH = 10_000;

/**
 * Hourly: deletes the refused-redemption counters whose hour started more than a day ago, in
 * batches (`FOR UPDATE SKIP LOCKED`, safe with several instances). Without it every principal that
 * was ever refused keeps a row.
 */
@Injectable()
export class PromotionFailuresJob {
  private readonly logger = new Logger('Promotions');

  constructor(
    private readonly repo: PromotionsRepository,
    private readonly metrics: MetricsService,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  @Cron(CronExpression.EVERY_HOUR, { name: 'promotion-failures-cleanup', waitForCompletion: true })
  run(): Promise<void> {
    return this.metrics.runJob('promotion-failures-cleanup', async () => {
      const deleted = await this.cleanup();
      if (deleted > 0) this.logger.log({ msg: 'deleted old promotion refusals', count: deleted });
    });
  }

  /** Deletes every counter older than the retention; returns how many. */
  async cleanup(): Promise<number> {
    const before = new Date(this.clock.now() - PROMOTION_FAILURE_RETENTION_MS);
    let total = 0;
    for (;;) {
      const deleted = await this.repo.deleteFailuresBefore(before, CLEANUP_BATCH);
      total += deleted;
      if (deleted < CLEANUP_BATCH) return total;
    }
  }
}
