import { Inject, Injectable, Logger } from '@nestjs/common';
import { Cron, CronExpression } from '@nestjs/schedule';

import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { CreditJobsRepository } from './credit-jobs.repository.js';
import { CreditsService } from './credits.service.js';

const EXPIRY_BATCH = 500;

/**
 * Expiry: once a minute, every allocation past its `expiresAt` gives up what it has left through an
 * `expire` ledger entry (docs/money.md), under its account's lock. Idempotent and safe with several
 * instances.
 */
@Injectable()
export class CreditExpiryJob {
  private readonly logger = new Logger('Credits');

  constructor(
    private readonly repo: CreditJobsRepository,
    private readonly credits: CreditsService,
    private readonly metrics: MetricsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Cron(CronExpression.EVERY_MINUTE, { name: 'credits-expiry' })
  run(): Promise<void> {
    // Counted by result; a failure is logged and retried next minute.
    return this.metrics.runJob('credits-expiry', async () => {
      const expired = await this.expireDue();
      if (expired > 0) this.logger.log({ msg: 'expired allocations', count: expired });
    });
  }

  @Cron(CronExpression.EVERY_MINUTE, { name: 'credits-expiring-notice' })
  notice(): Promise<void> {
    return this.metrics.runJob('credits-expiring-notice', async () => {
      const told = await this.noticeExpiring();
      if (told > 0) this.logger.log({ msg: 'expiring credits notified', count: told });
    });
  }

  /** Sends credits.expiring for every allocation now within the notice window; returns how many. */
  async noticeExpiring(): Promise<number> {
    let total = 0;
    for (;;) {
      const { processed, told } = await this.repo.noticeExpiringBatch(
        this.config.credits.expiringNoticeHours,
        EXPIRY_BATCH,
      );
      total += told;
      if (processed < EXPIRY_BATCH) return total;
    }
  }

  /**
   * Processes every expired allocation not yet processed, through the credits service under each
   * account's lock like every movement; returns the number of `expire` entries.
   */
  expireDue(): Promise<number> {
    return this.credits.expireDue();
  }
}
