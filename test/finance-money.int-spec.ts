import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { CreditFinanceRepository } from '../src/finance/feed/credit-finance.repository.js';
import { CreditLedgerDaysJob } from '../src/finance/feed/credit-ledger-days.job.js';
import { periodsOf, type RollForward, rollForwards } from '../src/finance/finance-figures.js';
import { startTestApp, type TestApp } from './support/app.js';
import { CURRENCIES, FinanceWorker, type Operation } from './support/finance-operations.js';
import { FinancePurchases } from './support/finance-purchases.js';
import { type OwnDatabase, ownDatabase } from './support/own-database.js';

/**
 * The money rule held over seeded random operations (docs/finance.md), through the engine's SQL
 * functions: valued grants in two currencies and promotional ones, records (the batch take, and
 * collected ones that make debt), holds settled under, over and at nothing, transfers, expiries,
 * refunds, disputes won and lost, voids, and debt repaid by the next grants. Each round runs one
 * operation per account, every operation of a kind for all its accounts in one statement; the
 * accounts are split between WORKERS connections that run their rounds side by side and meet at
 * each sampled instant. Checked exactly in minor units: every lot's money out plus its money left
 * is its value; the liability at every sampled instant, replayed from the ledger by the
 * roll-forward's reads, equals the lots, holds and disputes as they stood then; every period's
 * identity, closing = next opening, and the accounts adding up to the totals.
 *
 * Every check reads the ledger a bounded number of times whatever the count: the replay at all
 * sampled instants is ONE read of the movements bucketed at those instants (summed up to each), not
 * one replay per instant, and the instants are at most SAMPLES. The seed is printed; replay with
 * FINANCE_SEED=<seed> (FINANCE_OPS=<n>: the operations; `npm run test:finance-million`: 1,000,000).
 */
const SEED = Number(process.env.FINANCE_SEED ?? Math.floor(Math.random() * 2 ** 31));
const OPS = Number(process.env.FINANCE_OPS ?? 50_000);
const WORKERS = 2;
const SAMPLES = 20;
const ACCOUNTS = 10_000;

describe('finance: the money rule over a million operations', () => {
  // A database of its own: the liability and the roll-forward read every account, and the spec files
  // running beside this one move money on theirs.
  let own: OwnDatabase;
  let db: pg.Client;
  const connections: pg.Client[] = [];
  // The app on the same database: purchases are made, refunded and disputed through its services. Its
  // jobs are off: nothing but the test moves money, so a sample sees every movement before its instant.
  let t: TestApp;
  beforeAll(async () => {
    own = await ownDatabase('finance_money');
    t = await startTestApp({ DATABASE_URL: own.url, JOBS_ENABLED: 'false' });
    for (let w = 0; w <= WORKERS; w++) {
      const client = new pg.Client({ connectionString: own.url });
      await client.connect();
      connections.push(client);
    }
    db = connections[0];
  });
  afterAll(async () => {
    await t?.close();
    for (const client of connections) await client.end();
    await own?.drop();
  });
  const q = async <T extends pg.QueryResultRow>(sql: string, params: unknown[] = []) =>
    (await db.query<T>(sql, params)).rows;
  const reads = new CreditFinanceRepository();
  const on = { query: <T>(sql: string, params: unknown[] = []) => q(sql, params) as Promise<T[]> };
  /** The roll-forward of all accounts from the sums by day and the lines they do not cover. */
  async function fromDays(currency: string, periods: { start: Date; end: Date }[], to: Date) {
    const cover = await reads.daysCover(on);
    expect(cover).not.toBeNull();
    const days = { currency, starts: periods.map((p) => p.start), to, cover: cover! };
    return rollForwards(
      await reads.movementsOfAll(on, { ...days, promotional: true }),
      await reads.frozenOfAll(on, days),
      periods,
      currency,
      true,
    ).get('')!;
  }

  it(
    `keeps every minor unit over ${OPS} operations (seed ${SEED})`,
    { timeout: Math.max(600_000, OPS * 3) },
    async () => {
      console.log(`finance money: seed ${SEED}, ${OPS} operations (replay: FINANCE_SEED=${SEED} FINANCE_OPS=${OPS})`);
      const prefix = `fm${SEED.toString(36)}-`;
      const owners = Array.from({ length: ACCOUNTS }, (_, i) => `${prefix}${i}`);
      await q(`INSERT INTO user_accounts (user_id, role) SELECT unnest($1::varchar[]), 'user'`, [owners]);
      // The engine's key of each account: the lookups below go through its indexes.
      const accountIds = (
        await q<{ id: string }>(
          `SELECT a.account_id::text AS id FROM unnest($1::varchar[]) WITH ORDINALITY o(u, k)
           JOIN accounts a ON a.user_id = o.u ORDER BY o.k`,
          [owners],
        )
      ).map((r) => r.id);
      const slice = ACCOUNTS / WORKERS;
      const workers = Array.from(
        { length: WORKERS },
        (_, w) =>
          new FinanceWorker(
            connections[w + 1],
            SEED + w,
            owners,
            accountIds,
            w * slice,
            (w + 1) * slice,
            FinancePurchases.of(t.app, `${prefix}${w}`),
          ),
      );
      const rounds = Math.ceil(OPS / ACCOUNTS);
      const every = Math.max(1, Math.ceil(rounds / SAMPLES));
      const samples: { at: Date; byAccount: Map<string, { credits: bigint; value: bigint }>[] }[] = [];
      const started = new Date((await q<{ t: Date }>(`SELECT now() AS t`))[0].t.getTime() - 1000);
      const clock = Date.now();
      let done = 0;
      let halfway = false;
      for (let round = 1; done < OPS; round++) {
        // The workers meet after every round: a sample sees no statement half done.
        const budget = Math.ceil((OPS - done) / WORKERS);
        for (const n of await Promise.all(workers.map((w) => w.round(round, Math.min(slice, budget))))) done += n;
        if (round % every === 0 && done < OPS) {
          samples.push(await snapshot());
          console.log(`finance money: ${done} operations, ${Date.now() - clock} ms`);
        }
        if ((round & (round - 1)) === 0 || round % 16 === 0) await maintain();
        // The roll-forward's sums by day, taken halfway: the second half's lines are read beside them.
        if (!halfway && done >= OPS / 2) {
          halfway = true;
          await t.app.get(CreditLedgerDaysJob).fill();
        }
      }
      for (const w of workers) await w.settleAll();
      samples.push(await snapshot());
      const counts = new Map<Operation, number>();
      for (const w of workers) for (const [op, n] of w.counts) counts.set(op, (counts.get(op) ?? 0) + n);
      console.log(
        `finance money: ${rounds} rounds, ${samples.length} samples, ${Date.now() - clock} ms;`,
        `lots expired by age: ${workers.reduce((n, w) => n + w.aged, 0)};`,
        `purchase calls the service refused: ${workers.reduce((n, w) => n + w.purchases.refused, 0)}`,
        Object.fromEntries(counts),
      );

      // Every lot: its fill line is its value, and its lines add up to its money left.
      const lots = await q<{ bad: string }>(
        `SELECT count(*)::text AS bad FROM credit_allocations a
         LEFT JOIN (SELECT l.allocation_id, sum(l.value_minor) AS v,
                           sum(l.value_minor) FILTER (WHERE l.kind IN ('grant', 'transfer_in')) AS filled
                      FROM credit_ledger l GROUP BY l.allocation_id) s ON s.allocation_id = a.id
        WHERE account_user_id(a.account_id) LIKE $1 AND a.value_minor IS NOT NULL
          AND (s.v IS DISTINCT FROM a.value_remaining_minor OR s.filled IS DISTINCT FROM a.value_minor
               OR (a.remaining_credits = 0 AND a.value_remaining_minor <> 0))`,
        [`${prefix}%`],
      );
      expect(lots[0].bad).toBe('0');

      // The liability at every sampled instant = the lots, holds and disputes then: the ledger's
      // movements bucketed at the instants (ONE read), summed up to each, and the liability read
      // itself at the first and the last instant.
      const instants = samples.map((x) => x.at);
      for (const [c, currency] of CURRENCIES.entries()) {
        const moved = await reads.movements(on, {
          currency,
          starts: instants,
          to: instants.at(-1)!,
          byAccount: true,
          promotional: false,
        });
        const replayed = instants.map(() => new Map<string, { credits: bigint; value: bigint }>());
        for (const m of moved) {
          // A movement before instant k (its period starts before it) is in the liability at k.
          const from = m.period === null ? 0 : instants.findIndex((t) => t.getTime() === m.period!.getTime()) + 1;
          for (let k = from; k < instants.length; k++) {
            const was = replayed[k].get(String(m.account_id)) ?? { credits: 0n, value: 0n };
            replayed[k].set(String(m.account_id), {
              credits: was.credits + BigInt(m.credits),
              value: was.value + BigInt(m.value ?? 0),
            });
          }
        }
        for (const [k, sample] of samples.entries()) {
          const owed = (byAccount: Map<string, { credits: bigint; value: bigint }>) =>
            new Map([...byAccount].filter(([, m]) => m.credits !== 0n || m.value !== 0n));
          expect(owed(replayed[k]), `${currency} at ${sample.at.toISOString()}`).toEqual(owed(sample.byAccount[c]));
        }
        for (const k of new Set([0, samples.length - 1])) {
          const rows = await reads.liability(on, { currency, at: instants[k], after: null, limit: 1_000_000 });
          const read = new Map(rows.map((r) => [r.account_id, { credits: BigInt(r.credits), value: BigInt(r.value) }]));
          expect(read).toEqual(new Map([...replayed[k]].filter(([, m]) => m.credits !== 0n || m.value !== 0n)));
        }
      }

      // The roll-forward by day over the run: identities, continuity, accounts adding up, closing = now.
      const last = samples.at(-1)!;
      const from = new Date(Date.UTC(started.getUTCFullYear(), started.getUTCMonth(), started.getUTCDate() - 2));
      const to = new Date(Date.UTC(last.at.getUTCFullYear(), last.at.getUTCMonth(), last.at.getUTCDate() + 2));
      const periods = periodsOf(from, to, 'day');
      const wholes = new Map<string, RollForward>();
      for (const [c, currency] of CURRENCIES.entries()) {
        const input = { currency, starts: periods.map((p) => p.start), to, byAccount: true };
        const movements = await reads.movements(on, { ...input, promotional: true });
        const frozen = await reads.frozen(on, input);
        const each = rollForwards(movements, frozen, periods, currency);
        const all = rollForwards(
          movements.map((m) => ({ ...m, account_id: null })),
          frozen.map((m) => ({ ...m, account_id: null })),
          periods,
          currency,
        ).get('')!;
        // The same figures of all accounts from the sums by day (docs/finance.md "The sums by day"), as
        // taken halfway, every later line read beside them (and, below, brought forward over those lines).
        expect(await fromDays(currency, periods, to), `${currency} from the sums taken halfway`).toEqual(all);
        wholes.set(currency, all);
        const minor = (s: string) => BigInt(s.replace('.', ''));
        for (const [i, p] of all.periods.entries()) {
          const inflow = minor(p.purchased) + minor(p.sold) + minor(p.transferredIn);
          const outflow = [p.recognized, p.expired, p.refunded, p.chargedBack, p.voided, p.transferredOut]
            .map(minor)
            .reduce((x, y) => x + y, 0n);
          expect(minor(p.opening) + inflow - outflow).toBe(minor(p.closing));
          if (i > 0) expect(p.opening).toBe(all.periods[i - 1].closing);
        }
        const liabilityNow = [...last.byAccount[c].values()].reduce((n, m) => n + m.value, 0n);
        expect(minor(all.totals.closing)).toBe(liabilityNow);
        // transfers net to nothing over all accounts
        expect(all.totals.transferredIn).toBe(all.totals.transferredOut);
        for (const key of [
          'sold',
          'recognized',
          'expired',
          'refunded',
          'chargedBack',
          'voided',
          'closing',
          'disputed',
        ] as const) {
          const summed = [...each.entries()]
            .filter(([account]) => account !== '')
            .reduce((n, [, r]) => n + minor(r.totals[key]), 0n);
          expect(summed, key).toBe(minor(all.totals[key]));
        }
        console.log(`finance money ${currency}:`, all.totals, all.promotional);
      }
      await t.app.get(CreditLedgerDaysJob).fill();
      for (const [currency, all] of wholes) {
        expect(await fromDays(currency, periods, to), `${currency} from the sums brought forward`).toEqual(all);
      }

      /** The planner's statistics and the tables' dead rows kept as autovacuum keeps them on a live database. */
      async function maintain() {
        await q(`VACUUM (ANALYZE) credit_allocations, credit_accounts, credit_holds`);
        await q(`ANALYZE credit_ledger`);
      }

      /** What each account owed in each currency now, from the lots, the open holds and the disputes. */
      async function snapshot() {
        const [{ at }] = await q<{ at: Date }>(`SELECT clock_timestamp() AS at`);
        const rows = await q<{ account_id: string; currency: string; credits: string; value: string }>(
          `SELECT s.account_id, s.currency, sum(s.credits)::text AS credits, sum(s.value)::text AS value FROM (
           SELECT a.account_id, a.currency, a.remaining_credits::bigint AS credits, a.value_remaining_minor AS value
             FROM credit_allocations a WHERE account_user_id(a.account_id) LIKE $1 AND a.currency IS NOT NULL
           UNION ALL
           SELECT l.account_id, l.currency, -l.amount, -l.value_minor
             FROM credit_holds h JOIN credit_ledger l ON l.session_id = h.session_id AND l.account_id = h.account_id
                                                      AND l.kind IN ('hold', 'release')
            WHERE h.settled_at IS NULL AND h.member_id LIKE $1 AND l.currency IS NOT NULL
           UNION ALL
           SELECT l.account_id, l.currency, -l.amount, -l.value_minor
             FROM credit_ledger l WHERE l.kind IN ('freeze', 'unfreeze') AND l.currency IS NOT NULL AND l.member_id LIKE $1
         ) s GROUP BY s.account_id, s.currency`,
          [`${prefix}%`],
        );
        const byAccount = CURRENCIES.map(() => new Map<string, { credits: bigint; value: bigint }>());
        for (const r of rows) {
          byAccount[CURRENCIES.indexOf(r.currency as (typeof CURRENCIES)[number])].set(String(r.account_id), {
            credits: BigInt(r.credits),
            value: BigInt(r.value),
          });
        }
        return { at, byAccount };
      }
    },
  );
});
