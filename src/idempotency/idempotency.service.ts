import { Injectable, Logger } from '@nestjs/common';
import { Cron, CronExpression } from '@nestjs/schedule';

import { MetricsService } from '../metrics/metrics.service.js';
import { IdempotencyRepository } from './idempotency.repository.js';

/** How long a key is remembered at least; the cleanup job deletes only older keys. */
export const IDEMPOTENCY_RETENTION_HOURS = 24;
const CLEANUP_BATCH = 10_000;

/** The retention of stored idempotency keys (the interceptor reads and writes them). */
@Injectable()
export class IdempotencyStore {
  private readonly logger = new Logger('Idempotency');

  constructor(
    private readonly keys: IdempotencyRepository,
    private readonly metrics: MetricsService,
  ) {}

  /** Deletes keys older than the retention period, in batches so no long lock is held. */
  async deleteExpired(olderThanHours = IDEMPOTENCY_RETENTION_HOURS): Promise<number> {
    let total = 0;
    for (;;) {
      const deleted = await this.keys.deleteOlderThan(olderThanHours, CLEANUP_BATCH);
      total += deleted;
      if (deleted < CLEANUP_BATCH) return total;
    }
  }

  @Cron(CronExpression.EVERY_HOUR, { name: 'idempotency-cleanup', waitForCompletion: true })
  cleanup(): Promise<void> {
    return this.metrics.runJob('idempotency-cleanup', async () => {
      const deleted = await this.deleteExpired();
      if (deleted > 0) this.logger.log({ msg: 'expired idempotency keys deleted', deleted });
    });
  }
}
