import { Inject, Injectable } from '@nestjs/common';

import { CLOCK, type Clock } from '../common/clock.js';
import { HourlyCleanupJob, inBatches } from '../metrics/batch-jobs.js';
import { PromotionsRepository } from './promotions.repository.js';

/** Refusal counters are kept a day: far past the hour each counts (docs/selling.md "Guessing"). */
export const PROMOTION_FAILURE_RETENTION_MS = 86_400_000;

/**
 * Hourly: deletes the refused-redemption counters whose hour started more than a day ago, in
 * batches (`FOR UPDATE SKIP LOCKED`, safe with several instances). Without it every principal that
 * was ever refused keeps a row.
 */
@Injectable()
export class PromotionFailuresJob extends HourlyCleanupJob({
  name: 'promotion-failures-cleanup',
  context: 'Promotions',
  msg: 'deleted old promotion refusals',
  waitForCompletion: true,
}) {
  @Inject(PromotionsRepository) private readonly repo: PromotionsRepository;
  @Inject(CLOCK) private readonly clock: Clock;

  /** Deletes every counter older than the retention; returns how many. */
  cleanup(): Promise<number> {
    const before = new Date(this.clock.now() - PROMOTION_FAILURE_RETENTION_MS);
    return inBatches((batch) => this.repo.deleteFailuresBefore(before, batch));
  }
}
