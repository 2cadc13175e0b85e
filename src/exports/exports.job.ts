import { Injectable } from '@nestjs/common';
import { Cron, CronExpression } from '@nestjs/schedule';

import { MetricsService } from '../metrics/metrics.service.js';
import { ExportsService } from './exports.service.js';

/**
 * Every minute: starts the Parquet export when EXPORT_INTERVAL_MINUTES have passed since the last run
 * started (on any instance; the lease keeps it to one at a time). Nothing without EXPORT_DIR.
 */
@Injectable()
export class ExportsJob {
  constructor(
    private readonly exports: ExportsService,
    private readonly metrics: MetricsService,
  ) {}

  @Cron(CronExpression.EVERY_MINUTE, { name: 'parquet-exports', waitForCompletion: true })
  run(): Promise<void> {
    if (!this.exports.enabled) return Promise.resolve();
    return this.metrics.runJob('parquet-exports', () => this.exports.runIfDue());
  }
}
