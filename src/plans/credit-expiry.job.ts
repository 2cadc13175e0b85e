import { Injectable } from '@nestjs/common';
import { Cron, CronExpression } from '@nestjs/schedule';

import { CreditsService } from '../engine/credits.service.js';
import { loggingCount } from '../metrics/batch-jobs.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { PlansRepository } from './plans.repository.js';

/**
 * Expiry (`credits-expiry`): once a minute, every allocation past its `expiresAt` gives up what it has
 * left through an `expire` ledger entry (docs/money.md), under its account's lock, through the credits
 * module (CreditsService.expireDue). It sits here, above credits, because a plan period's allocation
 * waits for its due renewal: the job hands the renewals due (PlansRepository.renewalsDue) down as a
 * part of the credits module's one statement. Idempotent and safe with several instances.
 */
@Injectable()
export class CreditExpiryJob {
  constructor(
    private readonly credits: CreditsService,
    private readonly repo: PlansRepository,
    private readonly metrics: MetricsService,
  ) {}

  @Cron(CronExpression.EVERY_MINUTE, { name: 'credits-expiry' })
  run(): Promise<void> {
    // Counted by result; a failure is logged and retried next minute.
    return this.metrics.runJob(
      'credits-expiry',
      loggingCount('Credits', 'expired allocations', () => this.expireDue()),
    );
  }

  /**
   * Processes every expired allocation not yet processed, through the credits service under each
   * account's lock like every movement; returns the number of `expire` entries.
   */
  expireDue(): Promise<number> {
    return this.credits.expireDue(this.repo.renewalsDue());
  }
}
