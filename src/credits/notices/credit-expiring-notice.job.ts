import { Inject, Injectable } from '@nestjs/common';
import { Cron, CronExpression } from '@nestjs/schedule';

import type { AppConfig } from '../../config/app-config.js';
import { APP_CONFIG } from '../../config/config.module.js';
import { CreditLotsService } from '../../engine/credit-lots.service.js';
import { loggingCount } from '../../metrics/batch-jobs.js';
import { MetricsService } from '../../metrics/metrics.service.js';

const NOTICE_BATCH = 500;

/**
 * The notice ahead of expiry: once a minute, `credits.expiring` for every allocation within a lead
 * time of CREDITS_EXPIRING_NOTICE_HOURS, once per allocation and lead time. Safe with several
 * instances. (The expiry itself, `credits-expiry`, is the plans module's CreditExpiryJob: it hands
 * the renewals due down to CreditsService.expireDue.)
 */
@Injectable()
export class CreditExpiringNoticeJob {
  constructor(
    @Inject(CreditLotsService) private readonly lots: CreditLotsService,
    private readonly metrics: MetricsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Cron(CronExpression.EVERY_MINUTE, { name: 'credits-expiring-notice' })
  notice(): Promise<void> {
    return this.metrics.runJob(
      'credits-expiring-notice',
      loggingCount('Credits', 'expiring credits notified', () => this.noticeExpiring()),
    );
  }

  /** Sends credits.expiring for every allocation now within the notice window; returns how many. */
  async noticeExpiring(): Promise<number> {
    let total = 0;
    for (;;) {
      const { processed, told } = await this.lots.noticeExpiring(this.config.credits.expiringNoticeHours, NOTICE_BATCH);
      total += told;
      if (processed < NOTICE_BATCH) return total;
    }
  }
}
