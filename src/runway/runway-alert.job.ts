import { Inject, Injectable, type OnApplicationBootstrap, Optional } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';

import type { ResolvedAccount } from '../auth/account-access.js';
import { CLOCK, type Clock } from '../common/clock.js';
import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { RUNWAY_DEFAULT_DAYS } from '../credits/dto/runway.dto.js';
import { Transactions } from '../database/transactions.js';
import { namedInEvent } from '../events/event-types.js';
import { EventsService } from '../events/events.service.js';
import { loggingCount } from '../metrics/batch-jobs.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { DAY_MS, thresholdsReached } from './runway.js';
import { RunwayService } from './runway.service.js';
import { RunwayAlertsRepository } from './runway-alerts.repository.js';

/** Accounts read per page: each is projected and alerted in a short transaction of its own. */
const ALERT_PAGE = 200;

/**
 * Every RUNWAY_ALERT_INTERVAL_SECONDS (default 3600): `credits.runway` for each account with metered usage in the runway's default window whose
 * run-out day (GET /api/credits/runway's answer now) has come within a threshold of RUNWAY_ALERT_DAYS,
 * once per account, threshold and run-out day (docs/credits.md "Runway alerts"). Safe on several
 * instances at once: the key in `runway_alerts` is inserted in the transaction that emits the event,
 * so of two instances alerting the same account one inserts and emits, the other finds the key.
 * Registered with the scheduler (`runway-alerts`) only where the jobs run (JOBS_ENABLED): its interval
 * comes from the config, so it is added at start rather than by a decorator.
 */
@Injectable()
export class RunwayAlertJob implements OnApplicationBootstrap {
  /** The run under way, if any: a tick that finds one skips (a run never overlaps the previous). */
  private running: Promise<void> | null = null;

  constructor(
    private readonly runway: RunwayService,
    private readonly alerts: RunwayAlertsRepository,
    private readonly events: EventsService,
    private readonly tx: Transactions,
    private readonly metrics: MetricsService,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Optional() private readonly scheduler?: SchedulerRegistry,
  ) {}

  onApplicationBootstrap(): void {
    // No registry: the scheduler is not loaded on this instance (JOBS_ENABLED=false).
    if (!this.scheduler) return;
    const tick = () => {
      this.running ??= this.run().finally(() => (this.running = null));
    };
    this.scheduler.addInterval(
      'runway-alerts',
      setInterval(tick, this.config.credits.runwayAlertIntervalSeconds * 1000),
    );
  }

  run(): Promise<void> {
    return this.metrics.runJob(
      'runway-alerts',
      loggingCount('Runway', 'runway alerts emitted', () => this.alert()),
    );
  }

  /** Projects every account with recent usage and emits the alerts due; answers how many it emitted. */
  async alert(): Promise<number> {
    const thresholds = this.config.credits.runwayAlertDays;
    const now = this.clock.now();
    await this.alerts.forgetBefore(new Date(now).toISOString().slice(0, 10));
    if (thresholds.length === 0) return 0;
    const since = new Date(now - RUNWAY_DEFAULT_DAYS * DAY_MS);
    let emitted = 0;
    for (let after = '0'; ;) {
      const accounts = await this.alerts.withRecentUsage(since, after, ALERT_PAGE);
      for (const account of accounts) if (await this.alertOne(account, now, thresholds)) emitted++;
      if (accounts.length < ALERT_PAGE) return emitted;
      after = accounts[accounts.length - 1].accountId;
    }
  }

  /**
   * One account: when its run-out day is within thresholds not yet given for that day, they are
   * recorded and one event tells the nearest (a run-out first seen 2 days away says 3, and 7 is not
   * sent after it: it would say less, later).
   */
  private async alertOne(account: ResolvedAccount, now: number, thresholds: number[]): Promise<boolean> {
    const { runsOutAt } = await this.runway.project(account, new Date(now), RUNWAY_DEFAULT_DAYS);
    if (runsOutAt === null) return false;
    const reached = thresholdsReached(Date.parse(runsOutAt), now, thresholds);
    if (reached.length === 0) return false;
    return this.tx.run(async (m) => {
      const fresh = await this.alerts.give(m, account.accountId, reached, runsOutAt.slice(0, 10));
      if (fresh.length === 0) return false;
      const named = account.kind === 'org' ? namedInEvent(null, account.ownerId) : namedInEvent(account.ownerId, null);
      await this.events.emit(m, 'credits.runway', { ...named, runsOutAt, days: Math.min(...fresh) });
      return true;
    });
  }
}
