import { Logger } from '@nestjs/common';

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
