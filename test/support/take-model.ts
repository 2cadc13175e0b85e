/**
 * The take as plain arithmetic (docs/money.md "One decision"), for property tests of the engine: what
 * a run of strict debits does to one account, decided as credit_decide() decides and walked as
 * credit_fifo_walk() walks, with nothing read from the database. The engine's SQL is held to it over
 * generated cases (test/credits-decision.int-spec.ts); it knows nothing of ids, events or alerts.
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
 * One take from `a`, which it changes as credits_take() would. Only strict takes are decided (an
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
  a.debt += debt;
  if (windowed) a.windowUsed += spent;
  if (a.key) a.key.spent += spent;
  if (a.member) a.member.spent += spent;
  return { status: 'ok', collected, debt, balance: available - collected };
}
