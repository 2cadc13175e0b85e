import { Inject, Injectable, Logger } from '@nestjs/common';
import { Cron, CronExpression } from '@nestjs/schedule';

import { CLOCK, type Clock } from '../common/clock.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { PortalSessionsRepository } from './portal-sessions.repository.js';

const CLEANUP_BATCH = 10_000;

/**
 * Hourly: deletes the portal sessions that are over (ended or expired), in batches; the rows of
 * several instances' runs never meet (`FOR UPDATE SKIP LOCKED`). Without it the table only grows.
 */
@Injectable()
export class PortalSessionsJob {
  private readonly logger = new Logger('Portal');

  constructor(
    private readonly repo: PortalSessionsRepository,
    private readonly metrics: MetricsService,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  @Cron(CronExpression.EVERY_HOUR, { name: 'portal-sessions-cleanup', waitForCompletion: true })
  run(): Promise<void> {
    return this.metrics.runJob('portal-sessions-cleanup', async () => {
      const deleted = await this.cleanup();
      if (deleted > 0) this.logger.log({ msg: 'deleted portal sessions that are over', count: deleted });
    });
  }

  /** Deletes every session over at this instant; returns how many. */
  async cleanup(): Promise<number> {
    const now = new Date(this.clock.now());
    let total = 0;
    for (;;) {
      const deleted = await this.repo.deleteOver(now, CLEANUP_BATCH);
      total += deleted;
      if (deleted < CLEANUP_BATCH) return total;
    }
  }
}
