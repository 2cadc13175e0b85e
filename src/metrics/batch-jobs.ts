import { Inject, Logger } from '@nestjs/common';
import { Cron, CronExpression, type CronOptions } from '@nestjs/schedule';

import { MetricsService } from './metrics.service.js';

/**
 * The rows a periodic cleanup deletes in one statement: each statement holds its locks briefly, and
 * the batches of several instances never meet (`FOR UPDATE SKIP LOCKED` in the statements).
 */
export const CLEANUP_BATCH = 10_000;

/**
 * Runs `step` (one statement doing at most `batch` rows) until a step does fewer than `batch`: then
 * nothing is left that another instance is not already doing. Returns the rows of all the steps.
 */
export async function inBatches(step: (batch: number) => Promise<number>, batch = CLEANUP_BATCH): Promise<number> {
  let total = 0;
  for (;;) {
    const done = await step(batch);
    total += done;
    if (done < batch) return total;
  }
}

/** A job's work for MetricsService.runJob() that logs how many rows it did, under `context`, when any. */
export function loggingCount(context: string, msg: string, work: () => Promise<number>): () => Promise<void> {
  return async () => {
    const count = await work();
    if (count > 0) new Logger(context).log({ msg, count });
  };
}

/** An hourly cleanup's names: its cron job (and the metrics' label), and where and what its count logs. */
export interface HourlyCleanupOptions extends Pick<CronOptions, 'waitForCompletion'> {
  name: string;
  context: string;
  msg: string;
}

/**
 * The base class of an hourly cleanup job: `run()` is the cron entry, timed by MetricsService.runJob()
 * and logging the count; the job supplies `cleanup()` (deleting `inBatches()`), which tests also call.
 * Jobs inject their few dependencies as properties: the cleanup is all they add.
 */
export function HourlyCleanupJob({ name, context, msg, ...cron }: HourlyCleanupOptions) {
  abstract class HourlyCleanup {
    @Inject(MetricsService) private readonly metrics: MetricsService;

    /** Deletes every row past its time; returns how many. */
    abstract cleanup(): Promise<number>;

    @Cron(CronExpression.EVERY_HOUR, { name, ...cron })
    run(): Promise<void> {
      return this.metrics.runJob(
        name,
        loggingCount(context, msg, () => this.cleanup()),
      );
    }
  }
  return HourlyCleanup;
}
