/**
 * The take as plain arithmetic (docs/money.md "The take"), for property tests of the engine: what a
 * run of debits and holds of every mode does to one account, decided as credit_decide() decides and
 * walked as credit_fifo_walk() walks, with the balance alerts and the auto-recharge request they
 * send, nothing read from the database. The one take (credits_take_events()) is held to it over
 * generated cases (test/take-model.int-spec.ts, test/credits-decision.int-spec.ts); it knows
 * nothing of ids.
 */
export interface ModelAccount {
  /** Remaining credits of the live allocations, in the order they are spent (soonest expiry first). */
  allocations: number[];
  overdraftLimit: number;
  debt: number;
  /** The hourly limit (null: none) and what the last hour's window holds now. */
  hourly: number | null;
  windowUsed: number;
  /** The key's budget and what it spent in its period (null: no budget). */
  key: { budget: number; spent: number } | null;
  /** An organisation's member: its limit (null: none), spent in the period, removed. */
  member: { limit: number | null; spent: number; removed: boolean } | null;
  /** The low-balance thresholds, and the highest one still armed (null: all). */
  thresholds: number[];
  armedUpTo: number | null;
  /** Auto-recharge's `below` (null: off), and whether an attempt is open (one at a time). */
  rechargeBelow: number | null;
  rechargeOpen: boolean;
  /** The events the takes sent, in order. */
  events: ModelEvent[];
}

/** An event a take sends about the account's balance. */
export type ModelEvent =
  | { type: 'balance.low'; threshold: number; balance: number }
  | { type: 'balance.depleted' }
  | { type: 'auto_recharge.requested' };

/**
 * The alerts of a movement from `before` down to `after`, as credit_balance_alerts() sends them:
 * balance.low per threshold crossed, balance.depleted on reaching 0, each only while armed; a
 * crossing disarms the thresholds above the balance (a grant, never made here, arms them again).
 */
function alerts(a: ModelAccount, before: number, after: number): void {
  if (after >= before) return;
  const crossed = a.thresholds.filter((t) => before >= t && after < t);
  const depleted = before > 0 && after <= 0;
  if (crossed.length === 0 && !depleted) return;
  for (const t of crossed)
    if (a.armedUpTo === null || t <= a.armedUpTo) a.events.push({ type: 'balance.low', threshold: t, balance: after });
  if (depleted && (a.armedUpTo === null || a.armedUpTo >= 1)) a.events.push({ type: 'balance.depleted' });
  if (a.armedUpTo === null || a.armedUpTo > after) a.armedUpTo = after;
}

export interface ModelOutcome {
  status: string;
  collected: number;
  debt: number;
  /** After an `ok`, the balance left; after `insufficient`, available + headroom; else 0. */
  balance: number;
}

/** What a take asks: a debit or a hold, strict (all or nothing), up_to (an overrun) or collect (a review). */
export interface ModelTake {
  amount: number;
  kind: 'debit' | 'hold';
  mode: 'strict' | 'up_to' | 'collect';
}

/** A strict debit of `amount` from `a`, which it changes as the engine's take would. */
export function takeStrictDebit(a: ModelAccount, amount: number): ModelOutcome {
  return take(a, { amount, kind: 'debit', mode: 'strict' });
}

/**
 * One take from `a`, which it changes as the one take would. Only strict takes are decided (an
 * overrun or a collected shortfall is owed); a hold asks the caps for at least one credit and never
 * overdraws; a collect overdraws whatever the limit and stays out of the hourly window.
 */
export function take(a: ModelAccount, t: ModelTake): ModelOutcome {
  const { amount, kind, mode } = t;
  const strict = mode === 'strict';
  const refused = (status: string, balance = 0): ModelOutcome => ({ status, collected: 0, debt: 0, balance });
  // A removed member owes what their open sessions still settle, but starts nothing new.
  if (a.member && a.member.removed && strict) return refused('not_a_member');
  const available = a.allocations.reduce((sum, n) => sum + n, 0);
  const headroom = mode === 'collect' ? amount : kind === 'debit' ? Math.max(a.overdraftLimit - a.debt, 0) : 0;
  const ask = kind === 'hold' ? Math.max(amount, 1) : amount;
  const windowed = a.hourly !== null && ask > 0 && mode !== 'collect';
  if (strict) {
    // The caps in order; a charge that asks nothing passes them all.
    if (ask > 0) {
      const caps: [string, number, number | null][] = [
        ['key_limit', a.key?.spent ?? 0, a.key?.budget ?? null],
        ['member_limit', a.member?.spent ?? 0, a.member?.limit ?? null],
        ['rate_limited', a.windowUsed, windowed ? a.hourly : null],
      ];
      for (const [code, used, limit] of caps) if (limit !== null && used + ask > limit) return refused(code);
    }
    if (available + headroom < amount) return refused('insufficient', available + headroom);
  }
  let left = Math.min(amount, available);
  const collected = left;
  for (let i = 0; i < a.allocations.length && left > 0; i++) {
    const part = Math.min(left, a.allocations[i]);
    a.allocations[i] -= part;
    left -= part;
  }
  const debt = Math.min(amount - collected, headroom);
  const spent = collected + debt;
  const after = available - collected;
  a.debt += debt;
  if (windowed) a.windowUsed += spent;
  if (a.key) a.key.spent += spent;
  if (a.member) a.member.spent += spent;
  alerts(a, available, after);
  // A charge that leaves the balance below auto-recharge's `below` asks for one (none while one is open).
  if (a.rechargeBelow !== null && spent > 0 && after < a.rechargeBelow && !a.rechargeOpen) {
    a.rechargeOpen = true;
    a.events.push({ type: 'auto_recharge.requested' });
  }
  return { status: 'ok', collected, debt, balance: after };
}
