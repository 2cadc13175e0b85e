/**
 * The window the run-out day is projected over: the last 14 days' use, or the account's own days
 * when it is younger (a new account's use divided by 14 would read as a fraction of its real pace: an
 * account one day old that used 1,269 today, with 1,420 left, would "not run out within a year").
 * `since` is when the account began to use credits (its first day with usage, or its creation), in
 * UTC; the days are counted as UTC days, today included: 1 to 14.
 */
export const RUNWAY_DAYS = 14;

export function runwayDays(since: string | null | undefined, now: Date = new Date()): number {
  if (!since) return RUNWAY_DAYS;
  const first = Date.parse(`${since.slice(0, 10)}T00:00:00Z`);
  const today = Date.parse(`${now.toISOString().slice(0, 10)}T00:00:00Z`);
  if (Number.isNaN(first)) return RUNWAY_DAYS;
  const days = Math.round((today - first) / 86_400_000) + 1;
  return Math.min(RUNWAY_DAYS, Math.max(1, days));
}

/** The first UTC day with usage of a `byDay` map (`YYYY-MM-DD` → credits), or null when none. */
export function firstUsageDay(byDay: Record<string, number> | null | undefined): string | null {
  const days = Object.keys(byDay ?? {})
    .filter((day) => (byDay?.[day] ?? 0) > 0)
    .sort();
  return days[0] ?? null;
}

/** "the last 14 days’ use", "today’s use", "the last 3 days’ use". */
export function runwayBasis(days: number): string {
  return days === 1 ? 'today’s use' : `the last ${days} days’ use`;
}
