import { Inject, Injectable } from '@nestjs/common';

import type { ResolvedAccount } from '../auth/account-access.js';
import { CLOCK, type Clock } from '../common/clock.js';
import { DomainError } from '../common/errors/domain-error.js';
import { toDate } from '../common/validation/dates.js';
import { RUNWAY_DEFAULT_DAYS, type RunwayQueryDto, type RunwayResponseDto } from '../credits/dto/runway.dto.js';
import type { RunwayProjection } from '../credits/runway/runway-projection.js';
import { periodIndexAt, periodStart } from '../plans/periods.js';
import { DAY_MS, HORIZON_DAYS, perDay, projectRunway, type RunwayGrant } from './runway.js';
import { RunwayRepository, type SubscriptionRow } from './runway.repository.js';

/**
 * The day an account's credits run out (docs/credits.md "Runway"): read in one snapshot, then projected.
 * The credits tenants' route (`GET /api/credits/runway`) is handed it as its RUNWAY_PROJECTION.
 */
@Injectable()
export class RunwayService implements RunwayProjection {
  constructor(
    private readonly repo: RunwayRepository,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async runway(account: ResolvedAccount, query: RunwayQueryDto): Promise<RunwayResponseDto> {
    const days = query.days ?? RUNWAY_DEFAULT_DAYS;
    const now = this.clock.now();
    const asOf = query.asOf === undefined ? new Date(now) : toDate(query.asOf);
    // A future asOf would read a ledger still being written: its answer could change.
    if (asOf.getTime() > now) throw new DomainError('VALIDATION', 'asOf must not be in the future');
    return this.project(account, asOf, days);
  }

  /** The runway of `account` as of `asOf` over `days` of burn (the route's answer; the alert job's too). */
  async project(account: ResolvedAccount, asOf: Date, days: number): Promise<RunwayResponseDto> {
    const from = new Date(asOf.getTime() - days * DAY_MS);
    const read = await this.repo.snapshot(async (m) => ({
      burn: await this.repo.burn(m, account.accountId, from, asOf),
      lots: await this.repo.lots(m, account.accountId, asOf),
      debt: await this.repo.debt(m, account.accountId, asOf),
      subscription: await this.repo.subscription(m, account.accountId, asOf),
      recharge: await this.repo.recharge(m, account.accountId, asOf),
    }));
    const r = read.recharge;
    const projection = projectRunway({
      asOf: asOf.getTime(),
      days,
      burned: read.burn.burned,
      lots: read.lots.map((lot) => ({ credits: lot.credits, expiresAt: lot.expiresAt.getTime() })),
      debt: read.debt,
      grants: read.subscription ? planGrants(read.subscription, asOf.getTime()) : [],
      recharge: r && {
        below: r.below,
        credits: r.credits,
        intervalMs: r.intervalMinutes * 60_000,
        monthCap: r.monthCap,
        lastAt: r.lastAt?.getTime() ?? null,
        monthUsed: r.monthUsed,
      },
    });
    return {
      burnPerDay: perDay(read.burn.burned, days),
      balance: read.lots.reduce((sum, lot) => sum + lot.credits, 0),
      runsOutAt: projection.runsOutAt === null ? null : new Date(projection.runsOutAt).toISOString(),
      cause: projection.cause,
      expiringBeforeUse: projection.expiringBeforeUse,
      basis: { days, records: read.burn.records },
    };
  }
}

/**
 * The plan's grants after `asOf` within the horizon: each period starting then grants the plan's
 * credits, expiring at the period's end (the renewal job's grant; rollover is not projected). A change
 * scheduled for the period's end replaces the plan from then: its periods grant the new plan's credits,
 * anchored at the subscription's start (`keep`, the same period length) or at the change.
 */
function planGrants(sub: SubscriptionRow, asOf: number): RunwayGrant[] {
  const end = asOf + HORIZON_DAYS * DAY_MS;
  const until = sub.scheduled ? Math.min(sub.scheduled.at.getTime(), end + 1) : end + 1;
  const grants = periodGrants(sub.startsAt, sub.period, sub.credits, asOf, until);
  if (sub.scheduled) {
    const { at, credits, period, anchor } = sub.scheduled;
    const from = anchor === 'keep' && period === sub.period ? sub.startsAt : at;
    grants.push(...periodGrants(from, period, credits, Math.max(asOf, at.getTime() - 1), end + 1));
  }
  return grants;
}

/** The grants of periods of `period` from `anchor` that start after `after` and before `until`. */
function periodGrants(anchor: Date, period: SubscriptionRow['period'], credits: number, after: number, until: number) {
  const grants: RunwayGrant[] = [];
  let k = periodIndexAt(anchor, period, new Date(after)) + 1;
  for (let at = periodStart(anchor, period, k).getTime(); at < until;) {
    const next = periodStart(anchor, period, ++k).getTime();
    grants.push({ at, credits, expiresAt: next });
    at = next;
  }
  return grants;
}
