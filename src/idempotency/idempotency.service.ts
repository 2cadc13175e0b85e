import { Injectable, Logger } from '@nestjs/common';
import { Cron, CronExpression } from '@nestjs/schedule';

import { inBatches } from '../metrics/batch-jobs.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { IdempotencyRepository } from './idempotency.repository.js';

/** How long a key is remembered at least; the cleanup job deletes only older keys. */
export const IDEMPOTENCY_RETENTION_HOURS = 24;

/** The retention of stored idempotency keys (the interceptor reads and writes them). */
@Injectable()
export class IdempotencyStore {
  private readonly logger = new Logger('Idempotency');

  constructor(
    private readonly keys: IdempotencyRepository,
    private readonly metrics: MetricsService,
  ) {}

  /** Deletes keys older than the retention period, in batches so no long lock is held. */
  deleteExpired(olderThanHours = IDEMPOTENCY_RETENTION_HOURS): Promise<number> {
    return inBatches((batch) => this.keys.deleteOlderThan(olderThanHours, batch));
  }

  @Cron(CronExpression.EVERY_HOUR, { name: 'idempotency-cleanup', waitForCompletion: true })
  cleanup(): Promise<void> {
    return this.metrics.runJob('idempotency-cleanup', async () => {
      const deleted = await this.deleteExpired();
      if (deleted > 0) this.logger.log({ msg: 'expired idempotency keys deleted', deleted });
    });
  }
}
