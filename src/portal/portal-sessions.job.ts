import { Inject, Injectable } from '@nestjs/common';
import { Cron, CronExpression } from '@nestjs/schedule';

import { CLOCK, type Clock } from '../common/clock.js';
import { inBatches, loggingCount } from '../metrics/batch-jobs.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { PortalSessionsRepository } from './portal-sessions.repository.js';

/**
 * Hourly: deletes the portal sessions that are over (ended or expired), in batches; the rows of
 * several instances' runs never meet (`FOR UPDATE SKIP LOCKED`). Without it the table only grows.
 */
@Injectable()
export class PortalSessionsJob {
  constructor(
    private readonly repo: PortalSessionsRepository,
    private readonly metrics: MetricsService,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  @Cron(CronExpression.EVERY_HOUR, { name: 'portal-sessions-cleanup', waitForCompletion: true })
  run(): Promise<void> {
    const work = loggingCount('Portal', 'deleted portal sessions that are over', () => this.cleanup());
    return this.metrics.runJob('portal-sessions-cleanup', work);
  }

  /** Deletes every session over at this instant; returns how many. */
  cleanup(): Promise<number> {
    const now = new Date(this.clock.now());
    return inBatches((batch) => this.repo.deleteOver(now, batch));
  }
}
