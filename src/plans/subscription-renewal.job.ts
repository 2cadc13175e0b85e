import { Inject, Injectable } from '@nestjs/common';
import { Interval } from '@nestjs/schedule';

import { CLOCK, type Clock } from '../common/clock.js';
import { loggingCount } from '../metrics/batch-jobs.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { PlansRepository } from './plans.repository.js';
import { SubscriptionsService } from './subscriptions.service.js';

/** Often enough that a period's grant arrives within 60 s of its start. */
const RENEWAL_INTERVAL_MS = 15_000;
const BATCH = 100;

/**
 * Grants each live subscription's new period once it has started. Safe with several instances: a
 * subscription is renewed under its row lock (others skip it) and a period's grant is unique.
 */
@Injectable()
export class SubscriptionRenewalJob {
  constructor(
    private readonly repo: PlansRepository,
    private readonly subscriptions: SubscriptionsService,
    private readonly metrics: MetricsService,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  @Interval('subscription-renewal', RENEWAL_INTERVAL_MS)
  tick(): Promise<void> {
    // Counted by result; a failure is logged and retried on the next run.
    return this.metrics.runJob(
      'subscription-renewal',
      loggingCount('Plans', 'renewed subscriptions', () => this.run()),
    );
  }

  /** Renews everything due at `asOf`; answers how many subscriptions it renewed. */
  async run(asOf: Date = new Date(this.clock.now())): Promise<number> {
    const seen = new Set<string>();
    let renewed = 0;
    for (;;) {
      const due = (await this.repo.dueSubscriptions(asOf, BATCH)).filter((s) => !seen.has(s.id));
      for (const sub of due) {
        seen.add(sub.id);
        if (await this.subscriptions.renewDue(sub.id, sub.accountId, asOf)) renewed++;
      }
      if (due.length < BATCH) return renewed;
    }
  }
}
