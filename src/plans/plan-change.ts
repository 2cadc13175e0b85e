import { periodAt, type PeriodBounds, type PlanPeriod } from './periods.js';

/**
 * What a subscription PUT will do, decided once with no I/O (docs/plans.md "Changing plans"): the
 * preview answers it and the PUT writes it, so the two cannot disagree. Its inputs are read under
 * the account's lock; only the instant differs between a preview and the PUT after it.
 */
export type ChangeTiming = 'now' | 'period_end';
export type ChangeAllowance = 'difference' | 'prorated' | 'full';
export type ChangeAnchor = 'keep' | 'restart';

export interface ChangeOptions {
  timing: ChangeTiming;
  allowance: ChangeAllowance;
  anchor: ChangeAnchor;
  /** An explicit anchor (only with `now` and `keep`); null: the rule's. */
  startsAt: Date | null;
}

export interface PlanTerms {
  id: string;
  credits: number;
  period: PlanPeriod;
  rolloverCap: number;
}

/** An allocation of the account that is live at the change's instant, as it stands. */
export interface LiveLot {
  id: string;
  source: string;
  totalCredits: number;
  /** What it has left (held credits are out of it already). */
  credits: number;
  expiresAt: Date;
}

export interface ChangeInput {
  now: Date;
  options: ChangeOptions;
  plan: PlanTerms;
  /** The live subscription and its plan; null when the account has none. */
  live: { startsAt: Date; nextGrantAt: Date; plan: PlanTerms } | null;
  /** The anchor a change keeps (SubscriptionsService.keptAnchor); null: none to keep. */
  keptAnchor: Date | null;
  lots: LiveLot[];
}

export type ChangeSteps =
  /** The plan held already: nothing moves (a schedule in place is dropped). */
  | { kind: 'same' }
  | { kind: 'schedule'; effectiveAt: Date; anchor: ChangeAnchor }
  | {
      kind: 'replace';
      anchor: Date;
      /** The period in progress at `now` of the new subscription; null before its anchor. */
      period: PeriodBounds | null;
      grant: number;
      /**
       * The old period's plan lots that end now (restart with `full`), whole: a change never rolls
       * credits over, only a period that ends by itself does (its renewal).
       */
      expire: string[];
    };

export interface ChangePlan {
  steps: ChangeSteps;
  effectiveAt: Date;
  creditsGrantedNow: number;
  /** Every lot with credits left that the change leaves as it is, soonest-expiring first. */
  lots: LiveLot[];
  currentPeriodStart: Date | null;
  currentPeriodEnd: Date | null;
  nextGrantAt: Date | null;
}

export class ChangeRefused extends Error {
  constructor(readonly reason: 'full_needs_restart' | 'starts_at_conflict' | 'no_period') {
    super(reason);
  }
}

/** `ceil(n × num / den)` in integers (n ≥ 0, den > 0): a proration never rounds in floating point. */
export function ceilShare(n: number, num: bigint, den: bigint): number {
  const product = BigInt(n) * num;
  return Number((product + den - 1n) / den);
}

/** The plan credits the lots in force at `now` granted (what a keep-period grant tops up). */
function planCreditsInForce(lots: LiveLot[], now: Date): number {
  return lots
    .filter((l) => l.source === 'plan' && l.expiresAt.getTime() > now.getTime())
    .reduce((n, l) => n + l.totalCredits, 0);
}

/** The change a PUT with these options makes at `now`. Throws ChangeRefused for a refused combination. */
export function planChange(input: ChangeInput): ChangePlan {
  const { now, options, plan, live } = input;
  if (options.allowance === 'full' && options.anchor !== 'restart') throw new ChangeRefused('full_needs_restart');
  if (options.startsAt && (options.timing !== 'now' || options.anchor !== 'keep'))
    throw new ChangeRefused('starts_at_conflict');
  const lots = input.lots.filter((l) => l.credits > 0);
  const livePeriod = live && periodAt(live.startsAt, live.plan.period, now);

  if (live && live.plan.id === plan.id) {
    return {
      steps: { kind: 'same' },
      effectiveAt: now,
      creditsGrantedNow: 0,
      lots,
      currentPeriodStart: livePeriod?.start ?? null,
      currentPeriodEnd: livePeriod?.end ?? null,
      nextGrantAt: live.nextGrantAt,
    };
  }

  if (options.timing === 'period_end') {
    if (!livePeriod) throw new ChangeRefused('no_period');
    return {
      steps: { kind: 'schedule', effectiveAt: livePeriod.end, anchor: options.anchor },
      effectiveAt: livePeriod.end,
      creditsGrantedNow: 0,
      lots,
      currentPeriodStart: livePeriod.start,
      currentPeriodEnd: livePeriod.end,
      nextGrantAt: livePeriod.end,
    };
  }

  const anchor = options.anchor === 'restart' ? now : (options.startsAt ?? input.keptAnchor ?? now);
  const period = periodAt(anchor, plan.period, now);
  let grant = 0;
  let expire: string[] = [];
  if (period && options.allowance === 'full') {
    // The old period's plan lots end now, whole: a rollover here would carry credits into a period
    // that a second change could end again, and repeated changes would pile them up.
    expire = input.lots.filter((l) => l.source === 'plan').map((l) => l.id);
    grant = plan.credits;
  } else if (period) {
    const lacking = plan.credits - planCreditsInForce(input.lots, now);
    if (options.allowance === 'prorated') {
      const up = plan.credits - (live?.plan.credits ?? 0);
      const left = BigInt(period.end.getTime() - now.getTime());
      const length = BigInt(period.end.getTime() - period.start.getTime());
      grant = up > 0 ? Math.min(ceilShare(up, left, length), lacking) : 0;
    } else grant = lacking;
    grant = Math.max(0, grant);
  }
  const touched = new Set(expire);
  return {
    steps: { kind: 'replace', anchor, period, grant, expire },
    effectiveAt: now,
    creditsGrantedNow: grant,
    lots: lots.filter((l) => !touched.has(l.id)),
    currentPeriodStart: period?.start ?? null,
    currentPeriodEnd: period?.end ?? null,
    nextGrantAt: period?.end ?? anchor,
  };
}
