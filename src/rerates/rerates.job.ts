import { Injectable } from '@nestjs/common';
import { Cron, CronExpression } from '@nestjs/schedule';

import { MetricsService } from '../metrics/metrics.service.js';
import { RerateRunner } from './rerate-runner.js';

/**
 * Every 10 seconds: resumes the running re-rates no instance runs (after a crash, a database restart
 * or a deploy); each one's lease keeps it to one instance.
 */
@Injectable()
export class ReratesJob {
  constructor(
    private readonly runner: RerateRunner,
    private readonly metrics: MetricsService,
  ) {}

  @Cron(CronExpression.EVERY_10_SECONDS, { name: 'pricing-rerates', waitForCompletion: true })
  run(): Promise<void> {
    return this.metrics.runJob('pricing-rerates', () => this.runner.resume());
  }
}
