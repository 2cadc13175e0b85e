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

/** A strict debit of `amount` from `a`, which it changes as the engine's take would. */
export function takeStrictDebit(a: ModelAccount, amount: number): ModelOutcome {
  const refused = (status: string, balance = 0): ModelOutcome => ({ status, collected: 0, debt: 0, balance });
  if (a.member && a.member.removed) return refused('not_a_member');
  const available = a.allocations.reduce((sum, n) => sum + n, 0);
  const headroom = Math.max(a.overdraftLimit - a.debt, 0);
  // The caps in order; a charge that asks nothing passes them all.
  if (amount > 0) {
    const caps: [string, number, number | null][] = [
      ['key_limit', a.key?.spent ?? 0, a.key?.budget ?? null],
      ['member_limit', a.member?.spent ?? 0, a.member?.limit ?? null],
      ['rate_limited', a.windowUsed, a.hourly],
    ];
    for (const [code, used, limit] of caps) if (limit !== null && used + amount > limit) return refused(code);
  }
  if (available + headroom < amount) return refused('insufficient', available + headroom);
  let left = Math.min(amount, available);
  const collected = left;
  for (let i = 0; i < a.allocations.length && left > 0; i++) {
    const part = Math.min(left, a.allocations[i]);
    a.allocations[i] -= part;
    left -= part;
  }
  const debt = amount - collected;
  a.debt += debt;
  if (a.hourly !== null && amount > 0) a.windowUsed += amount;
  if (a.key) a.key.spent += amount;
  if (a.member) a.member.spent += amount;
  return { status: 'ok', collected, debt, balance: available - collected };
}
