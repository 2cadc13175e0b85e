/**
 * Subscription periods, in UTC: `[anchor + k·period, anchor + (k+1)·period)` for k = 0, 1, 2, …
 * A month adds calendar months to the ANCHOR (never to the previous period's start), clamped to the
 * last day of a shorter month: an anchor on Jan 31 gives Feb 28 (29 in a leap year), then Mar 31.
 * The one place that does this arithmetic (docs/money.md "Plans and rollover").
 */
export type PlanPeriod = 'day' | 'week' | 'month';

export const PLAN_PERIODS: readonly PlanPeriod[] = ['day', 'week', 'month'];

const DAY_MS = 86_400_000;
const FIXED_MS: Record<Exclude<PlanPeriod, 'month'>, number> = { day: DAY_MS, week: 7 * DAY_MS };

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
}

/** `anchor` plus `months` calendar months, the day clamped to the target month's last day. */
export function addMonths(anchor: Date, months: number): Date {
  const y = anchor.getUTCFullYear();
  const m = anchor.getUTCMonth() + months;
  const targetYear = y + Math.floor(m / 12);
  const targetMonth = ((m % 12) + 12) % 12;
  const day = Math.min(anchor.getUTCDate(), daysInMonth(targetYear, targetMonth));
  const at = new Date(anchor.getTime());
  at.setUTCFullYear(targetYear, targetMonth, day);
  return at;
}

/** Start of period `k` (k ≥ 0) of a subscription anchored at `anchor`. */
export function periodStart(anchor: Date, period: PlanPeriod, k: number): Date {
  if (period === 'month') return addMonths(anchor, k);
  return new Date(anchor.getTime() + k * FIXED_MS[period]);
}

/** Index of the period containing `at`; -1 before the anchor. */
export function periodIndexAt(anchor: Date, period: PlanPeriod, at: Date): number {
  if (at.getTime() < anchor.getTime()) return -1;
  if (period !== 'month') return Math.floor((at.getTime() - anchor.getTime()) / FIXED_MS[period]);
  // A first guess from the calendar, then corrected: clamping moves a start by at most a few days.
  let k = (at.getUTCFullYear() - anchor.getUTCFullYear()) * 12 + (at.getUTCMonth() - anchor.getUTCMonth());
  while (k > 0 && periodStart(anchor, period, k).getTime() > at.getTime()) k--;
  while (periodStart(anchor, period, k + 1).getTime() <= at.getTime()) k++;
  return k;
}

export interface PeriodBounds {
  index: number;
  start: Date;
  end: Date;
}

/** The period containing `at` (null before the anchor). */
export function periodAt(anchor: Date, period: PlanPeriod, at: Date): PeriodBounds | null {
  const index = periodIndexAt(anchor, period, at);
  if (index < 0) return null;
  return { index, start: periodStart(anchor, period, index), end: periodStart(anchor, period, index + 1) };
}
