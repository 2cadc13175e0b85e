import { fromMinor } from '../common/money/currencies.js';
import type { FrozenSum, MovementSum } from './feed/credit-finance.repository.js';

/** The roll-forward's money keys, in the order of the identity (docs/finance.md). */
export const MONEY_IN = ['purchased', 'sold', 'transferredIn'] as const;
export const MONEY_OUT = ['recognized', 'expired', 'refunded', 'chargedBack', 'voided', 'transferredOut'] as const;
export const PROMOTIONAL_KEYS = [
  'granted',
  'consumed',
  'expired',
  'voided',
  'transferredIn',
  'transferredOut',
] as const;

/**
 * Figures beside the identity: `corrected`, the money of usage corrections (the `corrected`
 * category), already inside `recognized`, signed like it (more taken: positive; given back: negative).
 */
export const MONEY_WITHIN = ['corrected'] as const;

type MoneyKey = (typeof MONEY_IN)[number] | (typeof MONEY_OUT)[number] | (typeof MONEY_WITHIN)[number];
type PromotionalKey = (typeof PROMOTIONAL_KEYS)[number];

/** A ledger category as the roll-forward names it, valued and promotional. */
const MONEY_KEY: Record<string, MoneyKey> = {
  purchased: 'purchased',
  sold: 'sold',
  recognized: 'recognized',
  corrected: 'recognized',
  expired: 'expired',
  refunded: 'refunded',
  charged_back: 'chargedBack',
  voided: 'voided',
  transferred_in: 'transferredIn',
  transferred_out: 'transferredOut',
};
const PROMOTIONAL_KEY: Record<string, PromotionalKey> = {
  granted: 'granted',
  recognized: 'consumed',
  corrected: 'consumed',
  expired: 'expired',
  voided: 'voided',
  transferred_in: 'transferredIn',
  transferred_out: 'transferredOut',
};

export type MoneyFigures = { opening: string } & Record<MoneyKey, string> & { closing: string; disputed: string };
export type PeriodFigures = { start: string; end: string } & MoneyFigures;
export type PromotionalFigures = { opening: number } & Record<PromotionalKey, number> & { closing: number };

export interface RollForward {
  periods: PeriodFigures[];
  totals: MoneyFigures;
  promotional: PromotionalFigures;
}

/** The periods from `from` to `to` (exclusive): calendar months or days, UTC, cut at both ends. */
export function periodsOf(from: Date, to: Date, interval: 'month' | 'day'): { start: Date; end: Date }[] {
  const periods: { start: Date; end: Date }[] = [];
  let start = from;
  while (start < to) {
    const next =
      interval === 'day'
        ? new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth(), start.getUTCDate() + 1))
        : new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + 1, 1));
    const end = next < to ? next : to;
    periods.push({ start, end });
    start = end;
  }
  return periods;
}

/** Sums of one account (or of all) keyed by period start (ms; -1: the opening). */
class Sums {
  readonly money = new Map<number, Map<MoneyKey, bigint>>();
  readonly net = new Map<number, bigint>();
  readonly promotional = new Map<number, Map<PromotionalKey, bigint>>();
  readonly promotionalNet = new Map<number, bigint>();
  readonly frozen = new Map<number, bigint>();

  add(row: MovementSum): void {
    const at = row.period === null ? -1 : new Date(row.period).getTime();
    if (row.promotional) {
      const credits = BigInt(row.credits);
      this.promotionalNet.set(at, (this.promotionalNet.get(at) ?? 0n) + credits);
      const key = PROMOTIONAL_KEY[row.category];
      if (key) bump(this.promotional, at, key, credits);
      return;
    }
    const value = BigInt(row.value ?? 0);
    this.net.set(at, (this.net.get(at) ?? 0n) + value);
    const key = MONEY_KEY[row.category];
    if (key) bump(this.money, at, key, value);
    if (row.category === 'corrected') bump(this.money, at, 'corrected', value);
  }

  addFrozen(row: FrozenSum): void {
    const at = row.period === null ? -1 : new Date(row.period).getTime();
    this.frozen.set(at, (this.frozen.get(at) ?? 0n) + BigInt(row.value));
  }
}

function bump<K>(map: Map<number, Map<K, bigint>>, at: number, key: K, n: bigint): void {
  const inner = map.get(at) ?? new Map<K, bigint>();
  inner.set(key, (inner.get(key) ?? 0n) + n);
  map.set(at, inner);
}

/**
 * The roll-forward of each account (by account id; '' for all) from the summed movements: each
 * period's opening is the previous closing, the money out counted positive, and closing = opening +
 * what came in − what went out, exactly (the signed sum of the period's movements).
 */
export function rollForwards(
  movements: MovementSum[],
  frozen: FrozenSum[],
  periods: { start: Date; end: Date }[],
  currency: string,
  /** Answer the '' entry (all accounts) even when nothing moved. */
  withAll = false,
): Map<string, RollForward> {
  const byAccount = new Map<string, Sums>();
  if (withAll) byAccount.set('', new Sums());
  const sumsOf = (account: string | null) => {
    const key = account ?? '';
    const found = byAccount.get(key);
    if (found) return found;
    const made = new Sums();
    byAccount.set(key, made);
    return made;
  };
  for (const row of movements) sumsOf(row.account_id).add(row);
  for (const row of frozen) sumsOf(row.account_id).addFrozen(row);
  const result = new Map<string, RollForward>();
  for (const [account, sums] of byAccount) result.set(account, rollForward(sums, periods, currency));
  return result;
}

/** Each period's bounds as ISO text, made once per list of periods (a page's accounts share it). */
const isoBounds = new WeakMap<object, { start: string; end: string }[]>();

function boundsOf(periods: { start: Date; end: Date }[]): { start: string; end: string }[] {
  let bounds = isoBounds.get(periods);
  if (!bounds) {
    bounds = periods.map((p) => ({ start: p.start.toISOString(), end: p.end.toISOString() }));
    isoBounds.set(periods, bounds);
  }
  return bounds;
}

function rollForward(sums: Sums, periods: { start: Date; end: Date }[], currency: string): RollForward {
  // Most of an account's periods by day are quiet: the same few amounts (zero, the balance) over and
  // over, so each is formatted once.
  const texts = new Map<bigint, string>();
  const money = (n: bigint) => {
    let text = texts.get(n);
    if (text === undefined) {
      text = fromMinor(n, currency);
      texts.set(n, text);
    }
    return text;
  };
  const bounds = boundsOf(periods);
  const none = new Map<MoneyKey, bigint>();
  let opening = sums.net.get(-1) ?? 0n;
  let disputed = sums.frozen.get(-1) ?? 0n;
  const firstOpening = opening;
  const totals = new Map<MoneyKey, bigint>();
  const rows: PeriodFigures[] = [];
  for (const [i, { start }] of periods.entries()) {
    const at = start.getTime();
    const moved = sums.money.get(at) ?? none;
    const closing = opening + (sums.net.get(at) ?? 0n);
    disputed += sums.frozen.get(at) ?? 0n;
    const figures = {} as Record<MoneyKey, string>;
    for (const key of MONEY_IN) figures[key] = money(moved.get(key) ?? 0n);
    for (const key of [...MONEY_OUT, ...MONEY_WITHIN]) figures[key] = money(-(moved.get(key) ?? 0n));
    for (const [key, n] of moved) totals.set(key, (totals.get(key) ?? 0n) + n);
    rows.push({
      start: bounds[i].start,
      end: bounds[i].end,
      opening: money(opening),
      ...figures,
      closing: money(closing),
      disputed: money(disputed),
    });
    opening = closing;
  }
  const total = {} as Record<MoneyKey, string>;
  for (const key of MONEY_IN) total[key] = money(totals.get(key) ?? 0n);
  for (const key of [...MONEY_OUT, ...MONEY_WITHIN]) total[key] = money(-(totals.get(key) ?? 0n));
  return {
    periods: rows,
    totals: { opening: money(firstOpening), ...total, closing: money(opening), disputed: money(disputed) },
    promotional: promotionalOf(sums, periods),
  };
}

/** The promotional credits' roll-forward over the whole range (credits, not money). */
function promotionalOf(sums: Sums, periods: { start: Date }[]): PromotionalFigures {
  const opening = sums.promotionalNet.get(-1) ?? 0n;
  let closing = opening;
  const moved = new Map<PromotionalKey, bigint>();
  for (const { start } of periods) {
    const at = start.getTime();
    closing += sums.promotionalNet.get(at) ?? 0n;
    for (const [key, n] of sums.promotional.get(at) ?? []) moved.set(key, (moved.get(key) ?? 0n) + n);
  }
  const figure = (key: PromotionalKey, sign: bigint) => Number(sign * (moved.get(key) ?? 0n));
  return {
    opening: Number(opening),
    granted: figure('granted', 1n),
    consumed: figure('consumed', -1n),
    expired: figure('expired', -1n),
    voided: figure('voided', -1n),
    transferredIn: figure('transferredIn', 1n),
    transferredOut: figure('transferredOut', -1n),
    closing: Number(closing),
  };
}
