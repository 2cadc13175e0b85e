import type pg from 'pg';
import { expect } from 'vitest';

import type { TestApp } from './app.js';
import {
  CURRENCIES,
  type Currency,
  FIGURE_OF,
  identityGap,
  INFLOWS,
  minorOf,
  OUTFLOWS,
  toUsdCents,
} from './currency-money.js';
import { expectInvariants } from './invariants.js';

/** What test/currencies-property.e2e-spec.ts's model knows of an account. */
export interface ModelAccount {
  id: string;
  auth: Record<string, string>;
  currency: Currency;
  credits: number;
  purchased: bigint;
  refunded: bigint;
}

export interface CheckContext {
  t: Pick<TestApp, 'http' | 'db'>;
  db: pg.Pool;
  admin: Record<string, string>;
  /** The range's UTC days, in order; the rates stored for each (the run's own record of its PUTs). */
  days: string[];
  rates: Map<string, Record<string, string>>;
}

const FIGURES = [...INFLOWS, ...OUTFLOWS];
const DAY = 86_400_000;

/** Σ of the given rows' money by figure, with each figure's sign as the roll-forward shows it. */
function byFigure(rows: { category: string; value: bigint }[]): Map<string, bigint> {
  const sums = new Map<string, bigint>(FIGURES.map((k) => [k, 0n]));
  for (const r of rows) {
    const figure = FIGURE_OF[r.category];
    expect(figure, `category ${r.category}`).toBeDefined();
    sums.set(figure[0], sums.get(figure[0])! + figure[1] * r.value);
  }
  return sums;
}

/** The roll-forward's figures (in minor units of `currency`) against `want`, every figure named there. */
function expectFigures(got: Record<string, string>, want: Map<string, bigint>, currency: Currency, what: string) {
  const shown = Object.fromEntries([...want.keys()].map((k) => [k, minorOf(got[k], currency, true)]));
  expect(shown, what).toEqual(Object.fromEntries(want));
}

/**
 * Moves the ledger lines of `accounts` to `at`, as if written then (the ledger's own rows, set by SQL
 * past its append-only trigger, as test/finance-reporting.e2e-spec.ts moves its grants).
 */
export async function bookOn(db: pg.Pool, accounts: { id: string }[], at: string): Promise<void> {
  const client = await db.connect();
  try {
    await client.query('BEGIN');
    await client.query(`SET LOCAL session_replication_role = replica`);
    await client.query(
      `UPDATE credit_ledger SET created_at = $2::timestamptz
        WHERE account_id IN (SELECT account_id FROM accounts WHERE user_id = ANY($1))`,
      [accounts.map((a) => a.id), at],
    );
    await client.query('COMMIT');
  } finally {
    client.release();
  }
}

/**
 * The properties of test/currencies-property.e2e-spec.ts after a run: `run` the run's accounts,
 * `all` every account so far (the database is the spec's own, so its totals are theirs).
 */
export async function checkCurrencies(c: CheckContext, run: ModelAccount[], all: ModelAccount[]): Promise<void> {
  const { http } = c.t;
  await expectInvariants(
    c.t,
    run.map((a) => a.id),
  );

  // Nothing bought, granted, charged or refunded in a currency its account does not bill in.
  const { rows: foreign } = await c.db.query(
    `SELECT 'purchase' AS what, p.id::text AS ref, p.currency, a.billing_currency
       FROM purchases p JOIN accounts a ON a.account_id = p.account_id
      WHERE p.currency IS DISTINCT FROM a.billing_currency
     UNION ALL
     SELECT 'refund', r.id::text, p.currency, a.billing_currency
       FROM purchase_refunds r JOIN purchases p ON p.id = r.purchase_id JOIN accounts a ON a.account_id = p.account_id
      WHERE p.currency IS DISTINCT FROM a.billing_currency
     UNION ALL
     SELECT 'lot', x.id::text, x.currency, a.billing_currency
       FROM credit_allocations x JOIN accounts a ON a.account_id = x.account_id
      WHERE x.currency IS NOT NULL AND x.currency IS DISTINCT FROM a.billing_currency
     UNION ALL
     SELECT 'line', l.id::text, l.currency, a.billing_currency
       FROM credit_ledger l JOIN accounts a ON a.account_id = l.account_id
      WHERE l.currency IS NOT NULL AND l.currency IS DISTINCT FROM a.billing_currency`,
  );
  expect(foreign).toEqual([]);

  for (const a of run) {
    const balance = await http.get('/api/credits/balance').set(a.auth).expect(200);
    expect(balance.body, a.id).toMatchObject({ totalCredits: a.credits, billingCurrency: a.currency });
  }

  const from = c.days[0];
  const to = new Date(Date.parse(`${c.days[c.days.length - 1]}T00:00:00Z`) + DAY).toISOString().slice(0, 10);
  const { rows } = await c.db.query<{
    user_id: string;
    category: string;
    currency: Currency;
    value: string;
    day: string;
  }>(
    `SELECT a.user_id, l.category, l.currency, l.value_minor::text AS value,
            to_char((COALESCE(l.booked_at, l.created_at) AT TIME ZONE 'UTC')::date, 'YYYY-MM-DD') AS day
       FROM credit_ledger l JOIN accounts a ON a.account_id = l.account_id
      WHERE l.category IS NOT NULL AND l.currency IS NOT NULL`,
  );
  const lines = rows.map((r) => ({ ...r, value: BigInt(r.value) }));
  expect(
    lines.filter((l) => !c.days.includes(l.day)),
    'every line on a day of the range',
  ).toEqual([]);
  const { rows: lots } = await c.db.query<{ user_id: string; currency: Currency; left: string }>(
    `SELECT a.user_id, x.currency, sum(x.value_remaining_minor)::text AS left
       FROM credit_allocations x JOIN accounts a ON a.account_id = x.account_id
      WHERE x.currency IS NOT NULL GROUP BY a.user_id, x.currency`,
  );
  const left = new Map(lots.map((l) => [l.user_id, BigInt(l.left)]));

  for (const currency of CURRENCIES) {
    const res = await http
      .get('/api/finance/rollforward')
      .query({ currency, from, to, interval: 'day', groupBy: 'account', limit: 1000 })
      .set(c.admin);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.nextCursor).toBeNull();
    const periods = res.body.periods as (Record<string, string> & { start: string })[];
    expect(periods.map((p) => p.start.slice(0, 10))).toEqual(c.days);
    expect(minorOf(periods[0].opening, currency, true)).toBe(0n);
    for (const [i, p] of periods.entries()) {
      expect(identityGap(p, currency), `${currency} ${p.start}`).toBe(0n);
      if (i > 0) expect(p.opening).toBe(periods[i - 1].closing);
      const today = lines.filter((l) => l.currency === currency && l.day === c.days[i]);
      expectFigures(p, byFigure(today), currency, `${currency} on ${c.days[i]}`);
    }
    const mine = lines.filter((l) => l.currency === currency);
    const totals = res.body.totals as Record<string, string>;
    expect(identityGap(totals, currency)).toBe(0n);
    const closing = mine.reduce((s, l) => s + l.value, 0n);
    const held = [...lots].filter((l) => l.currency === currency).reduce((s, l) => s + BigInt(l.left), 0n);
    expectFigures(totals, new Map([...byFigure(mine), ['closing', closing]]), currency, `${currency} totals`);
    expect(held, `${currency}: the closing is the lots' money left`).toBe(closing);

    // Each account in its own currency only, as the model has its money.
    const listed = res.body.accounts as { userId: string; totals: Record<string, string> }[];
    const billing = all.filter((a) => a.currency === currency);
    expect(listed.map((x) => x.userId).sort()).toEqual(
      billing
        .filter((a) => mine.some((l) => l.user_id === a.id))
        .map((a) => a.id)
        .sort(),
    );
    for (const x of listed) {
      const a = billing.find((b) => b.id === x.userId)!;
      expect(identityGap(x.totals, currency)).toBe(0n);
      const want = new Map([
        ['purchased', a.purchased],
        ['refunded', a.refunded],
        ['closing', left.get(a.id) ?? 0n],
      ]);
      expectFigures(x.totals, want, currency, `${currency} account ${a.id}`);
    }
    const liability = await http.get('/api/finance/liability').query({ currency, limit: 1000 }).set(c.admin);
    expect(liability.status, JSON.stringify(liability.body)).toBe(200);
    expect(liability.body.total).toBe(totals.closing);
    for (const x of liability.body.accounts as { userId: string; value: string }[]) {
      expect(minorOf(x.value, currency, true), x.userId).toBe(left.get(x.userId));
    }
  }

  // The reporting currency: the rates stored are the ones PUT last for each day, and every line is
  // converted at its day's rate, rounded one by one.
  const stored = await http.get('/api/finance/fx-rates').query({ from, to }).set(c.admin);
  expect(stored.status, JSON.stringify(stored.body)).toBe(200);
  expect(stored.body.days).toEqual(c.days.map((date) => ({ date, rates: c.rates.get(date) })));
  const converted = lines.map((l) => ({
    ...l,
    value: toUsdCents(l.value, l.currency, c.rates.get(l.day)?.[l.currency]),
  }));
  const res = await http
    .get('/api/finance/rollforward')
    .query({ reportingCurrency: 'usd', from, to, interval: 'day' })
    .set(c.admin);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  expect(res.body).toMatchObject({ currency: 'usd', reportingCurrency: 'usd' });
  let opening = 0n;
  for (const [i, p] of (res.body.periods as Record<string, string>[]).entries()) {
    const day = converted.filter((l) => l.day === c.days[i]);
    const closing = opening + day.reduce((s, l) => s + l.value, 0n);
    const want = new Map([...byFigure(day), ['opening', opening], ['closing', closing]]);
    expectFigures(p, want, 'usd', `usd reported on ${c.days[i]}`);
    opening = closing;
  }
  const totals = res.body.totals as Record<string, string>;
  expectFigures(totals, new Map([...byFigure(converted), ['closing', opening]]), 'usd', 'usd reported totals');
  const liability = await http.get('/api/finance/liability').query({ reportingCurrency: 'usd' }).set(c.admin);
  expect(liability.status, JSON.stringify(liability.body)).toBe(200);
  expect(minorOf(liability.body.total, 'usd', true)).toBe(opening);
}
