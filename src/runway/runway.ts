/**
 * The runway projection (docs/credits.md "Runway"): pure arithmetic, no I/O. The balance is spent at a
 * steady burn, soonest-expiring lot first as the take spends it, while lots expire, plan grants arrive
 * and auto-recharge tops the balance up. Exact: credits are scaled by `days · DAY_MS` so that the burn
 * per millisecond, `burned / (days · DAY_MS)` credits, is the integer `burned` scaled units; times are
 * whole milliseconds and the run-out instant is rounded up to the next one.
 */
export const DAY_MS = 86_400_000;
/** How far ahead the projection looks: a balance that lasts longer never runs out (null). */
export const HORIZON_DAYS = 366;
/** A bound on the events walked (recharges of a few credits against a steep burn): beyond it, null. */
const MAX_STEPS = 20_000;

export interface RunwayLot {
  /** Whole credits the lot holds at the start of the projection (or grants when it arrives). */
  credits: number;
  /** Epoch milliseconds; null: it does not expire within the horizon. */
  expiresAt: number | null;
}

export interface RunwayGrant extends RunwayLot {
  /** Epoch milliseconds when the plan grants it. */
  at: number;
}

export interface RunwayRecharge {
  /** A top-up comes when the balance falls below this. */
  below: number;
  credits: number;
  intervalMs: number;
  /** Credits auto-recharge may add in one UTC month; null: no cap. */
  monthCap: number | null;
  /** When the last attempt before the projection opened (epoch ms); null: none. */
  lastAt: number | null;
  /** Credits the projection's first UTC month has had already. */
  monthUsed: number;
}

export interface RunwayInput {
  /** Epoch milliseconds the projection starts from. */
  asOf: number;
  days: number;
  /** Credits burned over the `days` before `asOf` (net of corrections; 0 or less: no burn). */
  burned: bigint;
  lots: RunwayLot[];
  /** Whole credits the account owes at `asOf`: a grant or a top-up to come repays it first. */
  debt?: number;
  grants: RunwayGrant[];
  recharge: RunwayRecharge | null;
}

export interface RunwayProjection {
  /** Epoch milliseconds the balance reaches 0; null: not within the horizon, or no burn. */
  runsOutAt: number | null;
  cause: 'burn' | 'expiry' | null;
  /** Whole credits of the balance at `asOf` that expire before the burn spends them (rounded down). */
  expiringBeforeUse: number;
}

interface Lot {
  left: bigint;
  expiresAt: number | null;
  /** Part of the balance at asOf (what expiringBeforeUse counts). */
  existing: boolean;
  seq: number;
}

const ceilDiv = (a: bigint, b: bigint): bigint => (a + b - 1n) / b;
const monthStart = (at: number): number => {
  const d = new Date(at);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
};
const nextMonth = (at: number): number => {
  const d = new Date(at);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
};

/** Soonest-expiring first (as the take spends), lots that do not expire last, ties by arrival. */
const spendOrder = (a: Lot, b: Lot): number => (a.expiresAt ?? Infinity) - (b.expiresAt ?? Infinity) || a.seq - b.seq;

export function projectRunway(input: RunwayInput): RunwayProjection {
  const scale = BigInt(input.days) * BigInt(DAY_MS);
  const burn = input.burned > 0n ? input.burned : 0n;
  const horizon = input.asOf + HORIZON_DAYS * DAY_MS;
  let seq = 0;
  const lots: Lot[] = input.lots
    .filter((lot) => lot.credits > 0)
    .map((lot) => ({ left: BigInt(lot.credits) * scale, expiresAt: lot.expiresAt, existing: true, seq: seq++ }));
  let debt = Math.max(input.debt ?? 0, 0);
  /** A grant or a top-up arriving: it repays the debt first (as credits_grant() does), the rest is a lot. */
  const add = (credits: number, expiresAt: number | null) => {
    const repaid = Math.min(debt, credits);
    debt -= repaid;
    if (credits - repaid <= 0) return;
    lots.push({ left: BigInt(credits - repaid) * scale, expiresAt, existing: false, seq: seq++ });
    lots.sort(spendOrder);
  };
  lots.sort(spendOrder);
  const grants = [...input.grants].sort((a, b) => a.at - b.at);
  const recharge = burn > 0n ? input.recharge : null;
  const used = new Map<number, number>([[monthStart(input.asOf), recharge?.monthUsed ?? 0]]);
  let lastRecharge = recharge?.lastAt ?? null;
  let expired = 0n;
  let next = 0;
  let t = input.asOf;
  const answer = (runsOutAt: number | null, cause: RunwayProjection['cause']): RunwayProjection => ({
    runsOutAt,
    cause,
    expiringBeforeUse: Number(expired / scale),
  });

  /** The first instant from `from` when a top-up may come: after the interval, within the month's cap. */
  const rechargeFrom = (from: number): number => {
    if (!recharge) return Infinity;
    let at = lastRecharge === null ? from : Math.max(from, lastRecharge + recharge.intervalMs);
    if (recharge.monthCap !== null && recharge.credits > recharge.monthCap) return Infinity;
    while (recharge.monthCap !== null && (used.get(monthStart(at)) ?? 0) + recharge.credits > recharge.monthCap)
      at = nextMonth(at);
    return at;
  };

  for (let step = 0; step < MAX_STEPS; step++) {
    const total = lots.reduce((sum, lot) => sum + lot.left, 0n);
    if (burn > 0n && total === 0n) return answer(t, 'burn');
    let topUp = Infinity;
    if (recharge) {
      const belowAt =
        total < BigInt(recharge.below) * scale ? t : t + Number((total - BigInt(recharge.below) * scale) / burn) + 1;
      topUp = rechargeFrom(belowAt);
    }
    if (topUp === t && recharge) {
      add(recharge.credits, null);
      used.set(monthStart(t), (used.get(monthStart(t)) ?? 0) + recharge.credits);
      lastRecharge = t;
      continue;
    }
    const expiry = lots.reduce((min, lot) => Math.min(min, lot.expiresAt ?? Infinity), Infinity);
    const event = Math.min(expiry, grants[next]?.at ?? Infinity, topUp, horizon);
    if (burn > 0n) {
      const empty = t + Number(ceilDiv(total, burn));
      if (empty <= event) return empty <= horizon ? answer(empty, 'burn') : answer(null, null);
    }
    spend(lots, burn * BigInt(event - t));
    t = event;
    if (t >= horizon) break;
    for (; next < grants.length && grants[next].at <= t; next++) add(grants[next].credits, grants[next].expiresAt);
    let emptiedByExpiry = false;
    for (let i = lots.length - 1; i >= 0; i--) {
      const lot = lots[i];
      if (lot.expiresAt === null || lot.expiresAt > t) continue;
      if (lot.existing) expired += lot.left;
      emptiedByExpiry ||= lot.left > 0n;
      lots.splice(i, 1);
    }
    // Expiry that leaves nothing, with no grant arriving at the same instant, ends the runway.
    if (burn > 0n && emptiedByExpiry && lots.every((lot) => lot.left === 0n)) return answer(t, 'expiry');
  }
  return answer(null, null);
}

/** Takes `amount` scaled units from the lots in spending order; spent lots drop out. */
function spend(lots: Lot[], amount: bigint): void {
  let rest = amount;
  while (rest > 0n && lots.length > 0) {
    const take = lots[0].left < rest ? lots[0].left : rest;
    lots[0].left -= take;
    rest -= take;
    if (lots[0].left === 0n) lots.shift();
  }
}

/** A whole-credit count over `days` as credits per day, a decimal string with four places (half up). */
export function perDay(burned: bigint, days: number): string {
  const n = burned > 0n ? burned : 0n;
  const tenThousandths = (n * 10_000n * 2n + BigInt(days)) / (2n * BigInt(days));
  const whole = tenThousandths / 10_000n;
  return `${whole}.${(tenThousandths % 10_000n).toString().padStart(4, '0')}`;
}

/**
 * The thresholds of `thresholds` (days) that the run-out instant is within at `now`: a run-out 2.5
 * days away is within 7 and 3, not 1.
 */
export function thresholdsReached(runsOutAt: number, now: number, thresholds: number[]): number[] {
  return thresholds.filter((days) => runsOutAt - now <= days * DAY_MS);
}
