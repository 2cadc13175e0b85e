import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { CreditFinanceRepository } from '../src/credits/credit-finance.repository.js';
import { periodsOf, rollForwards } from '../src/finance/finance-figures.js';
import { type OwnDatabase, ownDatabase } from './support/own-database.js';

/**
 * The money rule held over seeded random operations (docs/finance.md), through the engine's SQL
 * functions: valued grants in two currencies and promotional ones, records (the batch take, and
 * collected ones that make debt), holds settled under, over and at nothing, transfers, expiries,
 * refunds, disputes won and lost, voids, and debt repaid by the next grants. Each round runs one
 * operation per account, every operation of a kind for all its accounts in one statement. Checked
 * exactly in minor units: every lot's money out plus its money left is its value; the liability at
 * every sampled instant, replayed from the ledger by the roll-forward's reads, equals the lots,
 * holds and disputes as they stood then; every period's identity, closing = next opening, and the
 * accounts adding up to the totals.
 *
 * The seed is printed; replay with FINANCE_MONEY_SEED=<seed> (FINANCE_MONEY_OPS=<n>: the operations).
 */
const SEED = Number(process.env.FINANCE_MONEY_SEED ?? Math.floor(Math.random() * 2 ** 31));
const OPS = Number(process.env.FINANCE_MONEY_OPS ?? 50_000);
const ACCOUNTS = 10_000;
const CURRENCIES = ['usd', 'eur'] as const;
const RATE = 2_000_000_000;

/** mulberry32: a small seeded generator, so a seed replays the same operations. */
function generator(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, int: (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1)) };
}

const OPERATIONS = [
  ['record', 40],
  ['grantValued', 10],
  ['grantPromo', 5],
  ['collect', 4],
  ['hold', 8],
  ['settle', 8],
  ['transfer', 6],
  ['expire', 3],
  ['refund', 4],
  ['disputeOpen', 3],
  ['disputeClose', 3],
  ['void', 2],
] as const;
type Operation = (typeof OPERATIONS)[number][0];
const WEIGHT = OPERATIONS.reduce((n, [, w]) => n + w, 0);

describe('finance: the money rule over a million operations', () => {
  // A database of its own: the liability and the roll-forward read every account, and the spec files
  // running beside this one move money on theirs.
  let own: OwnDatabase;
  let db: pg.Client;
  beforeAll(async () => {
    own = await ownDatabase('finance_money');
    db = new pg.Client({ connectionString: own.url });
    await db.connect();
  });
  afterAll(async () => {
    await db?.end();
    await own?.drop();
  });
  const q = async <T extends pg.QueryResultRow>(sql: string, params: unknown[] = []) =>
    (await db.query<T>(sql, params)).rows;
  const reads = new CreditFinanceRepository({ query: (sql: string, params: unknown[]) => q(sql, params) } as never);

  it(`keeps every minor unit over ${OPS} operations (seed ${SEED})`, { timeout: 600_000 }, async () => {
    console.log(`finance money: seed ${SEED}, ${OPS} operations (replay: FINANCE_MONEY_SEED=${SEED})`);
    const rnd = generator(SEED);
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
    const sessions = new Map<number, string>();
    const samples: { at: Date; byAccount: Map<string, { credits: bigint; value: bigint }>[] }[] = [];
    const started = new Date((await q<{ t: Date }>(`SELECT now() AS t`))[0].t.getTime() - 1000);
    let done = 0;
    let round = 0;
    const counts = new Map<Operation, number>();
    while (done < OPS) {
      round++;
      const groups = new Map<Operation, number[]>();
      for (let i = 0; i < ACCOUNTS && done < OPS; i++, done++) {
        let pick = rnd.int(0, WEIGHT - 1);
        let op: Operation = 'record';
        for (const [name, w] of OPERATIONS) {
          if (pick < w) {
            op = name;
            break;
          }
          pick -= w;
        }
        if (op === 'hold' && sessions.has(i)) op = 'settle';
        if (op === 'settle' && !sessions.has(i)) op = 'record';
        groups.set(op, [...(groups.get(op) ?? []), i]);
        counts.set(op, (counts.get(op) ?? 0) + 1);
      }
      for (const [op, members] of groups) await run(op, members, round);
      if (round % 5 === 0) samples.push(await snapshot());
    }
    await settle(
      [...sessions.keys()],
      [...sessions.keys()].map(() => 0),
    );
    samples.push(await snapshot());
    console.log(`finance money: ${round} rounds`, Object.fromEntries(counts));

    // Every lot: its fill line is its value, and its lines add up to its money left.
    const lots = await q<{ bad: string }>(
      `SELECT count(*)::text AS bad FROM credit_allocations a
         LEFT JOIN (SELECT l.allocation_id, sum(l.value_minor) AS v,
                           sum(l.value_minor) FILTER (WHERE l.kind IN ('grant', 'transfer_in')) AS filled
                      FROM credit_ledger l GROUP BY l.allocation_id) s ON s.allocation_id = a.id
        WHERE a.user_id LIKE $1 AND a.value_minor IS NOT NULL
          AND (s.v IS DISTINCT FROM a.value_remaining_minor OR s.filled IS DISTINCT FROM a.value_minor
               OR (a.remaining_credits = 0 AND a.value_remaining_minor <> 0))`,
      [`${prefix}%`],
    );
    expect(lots[0].bad).toBe('0');

    // The liability at every sampled instant = the lots, holds and disputes then.
    for (const sample of samples) {
      for (const [c, currency] of CURRENCIES.entries()) {
        const rows = await reads.liability(currency, sample.at);
        const replayed = new Map(
          rows.map((r) => [r.account_id, { credits: BigInt(r.credits), value: BigInt(r.value) }]),
        );
        const expected = [...sample.byAccount[c]].filter(([, m]) => m.credits !== 0n || m.value !== 0n);
        expect(new Map(expected)).toEqual(replayed);
      }
    }

    // The roll-forward by day over the run: identities, continuity, accounts adding up, closing = now.
    const last = samples.at(-1)!;
    const from = new Date(Date.UTC(started.getUTCFullYear(), started.getUTCMonth(), started.getUTCDate() - 2));
    const to = new Date(Date.UTC(last.at.getUTCFullYear(), last.at.getUTCMonth(), last.at.getUTCDate() + 2));
    const periods = periodsOf(from, to, 'day');
    for (const [c, currency] of CURRENCIES.entries()) {
      const input = { currency, starts: periods.map((p) => p.start), to, byAccount: true };
      const movements = await reads.movements({ ...input, promotional: true });
      const frozen = await reads.frozen(input);
      const each = rollForwards(movements, frozen, periods, currency);
      const all = rollForwards(
        movements.map((m) => ({ ...m, account_id: null })),
        frozen.map((m) => ({ ...m, account_id: null })),
        periods,
        currency,
      ).get('')!;
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

    async function run(op: Operation, members: number[], r: number): Promise<void> {
      const keys = members.map((i) => accountIds[i]);
      const n = members.map(() => rnd.int(1, 40));
      switch (op) {
        case 'record': {
          const ids = await q<{ id: string }>(`SELECT gen_random_uuid()::text AS id FROM generate_series(1, $1)`, [
            members.length,
          ]);
          await q(
            `SELECT count(*) FROM credits_take_events('prop', NULL, ${RATE}, '{}', $1::bigint[], $2::int[], $3::uuid[])`,
            [keys, n, ids.map((x) => x.id)],
          );
          return;
        }
        case 'collect':
          await q(
            `SELECT count(*) FROM credits_take_events('prop', NULL, ${RATE}, '{}', $1::bigint[], $2::int[],
                      (SELECT array_agg(gen_random_uuid()) FROM generate_series(1, cardinality($1::bigint[]))),
                      NULL, NULL, array_fill('collect'::varchar, ARRAY[cardinality($1::bigint[])]))`,
            [keys, n],
          );
          return;
        case 'grantValued':
        case 'grantPromo': {
          const valued = op === 'grantValued';
          await q(
            `SELECT count(*) FROM unnest($1::bigint[], $2::int[], $3::bigint[], $4::varchar[]) x(o, n, v, c),
                    LATERAL credits_grant(x.o, x.n, 'prop', now() + interval '30 days', NULL, 'manual', NULL, NULL, NULL,
                                          false, NULL, NULL, x.v, x.c) g`,
            [
              keys,
              n.map((k) => k * 25),
              members.map(() => (valued ? rnd.int(1, 5000) : null)),
              members.map(() => (valued ? CURRENCIES[rnd.int(0, 1)] : null)),
            ],
          );
          return;
        }
        case 'hold': {
          const sids = members.map((i) => `s${r}-${i}`);
          const rows = await q<{ ok: boolean }>(
            `SELECT h.out_status = 'ok' AS ok FROM unnest($1::bigint[], $2::int[], $3::varchar[]) WITH ORDINALITY x(o, n, s, k),
                    LATERAL credits_hold(x.o, x.n, x.s, 'prop', NULL, ${RATE}, '{}') h ORDER BY x.k`,
            [keys, n, sids],
          );
          rows.forEach((row, k) => row.ok && sessions.set(members[k], sids[k]));
          return;
        }
        case 'settle': {
          const charges = members.map(() => (rnd.int(0, 3) === 0 ? 0 : rnd.int(0, 60)));
          await settle(members, charges);
          return;
        }
        case 'transfer':
          await q(
            `SELECT count(*) FROM unnest($1::bigint[], $2::bigint[], $3::int[]) x(f, t, n),
                    LATERAL credits_transfer(x.f, x.t, x.n, NULL, 'prop', '{}') m`,
            [keys, members.map(() => accountIds[rnd.int(0, ACCOUNTS - 1)]), n],
          );
          return;
        case 'expire':
          await q(
            `UPDATE credit_allocations a SET expires_at = now()
               FROM (SELECT DISTINCT ON (c.account_id) c.id FROM credit_allocations c
                      WHERE c.account_id = ANY ($1::bigint[]) AND c.remaining_credits > 0 AND c.expires_at > now()
                      ORDER BY c.account_id, c.allocated_at, c.id) d
              WHERE a.id = d.id`,
            [keys],
          );
          await q(`SELECT * FROM credits_expire_due(100000, '{}', '{}', '{}')`);
          return;
        case 'refund': {
          const lots = await lotsOf(keys, 'NOT a.frozen AND a.value_minor IS NOT NULL');
          await q(
            `SELECT count(*) FROM unnest($1::uuid[], $2::int[], $3::boolean[]) x(id, n, debt),
                    LATERAL credits_take_back(x.id, x.n, x.debt, 0, 'prop', '{}', NULL, false) t`,
            [lots, lots.map(() => rnd.int(1, 60)), lots.map(() => rnd.int(0, 1) === 1)],
          );
          return;
        }
        case 'disputeOpen': {
          const lots = await lotsOf(keys, 'NOT a.frozen AND a.value_minor IS NOT NULL');
          await q(`SELECT count(credits_freeze(x.id, true, 'prop', '{}')) FROM unnest($1::uuid[]) x(id)`, [lots]);
          return;
        }
        case 'void': {
          const lots = await lotsOf(keys, 'NOT a.frozen');
          await q(`SELECT count(*) FROM unnest($1::uuid[]) x(id), LATERAL credits_void(x.id, 'prop', NULL, '{}') v`, [
            lots,
          ]);
          return;
        }
        case 'disputeClose': {
          const lots = await lotsOf(keys, 'a.frozen');
          await q(`SELECT count(credits_freeze(x.id, false, 'prop', '{}')) FROM unnest($1::uuid[]) x(id)`, [lots]);
          const lost = lots.filter(() => rnd.int(0, 1) === 1);
          await q(
            `SELECT count(*) FROM unnest($1::uuid[]) x(id),
                    LATERAL credits_take_back(x.id, 1000000, true, 0, 'prop', '{}', NULL, true) t`,
            [lost],
          );
          return;
        }
      }
    }

    /** Settles the members' open sessions at these charges (0: nothing used, an abort). */
    async function settle(members: number[], charges: number[]): Promise<void> {
      await q(
        `SELECT count(*) FROM unnest($1::bigint[], $2::varchar[], $3::int[]) x(o, s, c),
                LATERAL credits_settle(x.o, x.s, x.c, 'prop', NULL, ${RATE}, '{}') t`,
        [members.map((i) => accountIds[i]), members.map((i) => sessions.get(i)!), charges],
      );
      for (const i of members) sessions.delete(i);
    }

    async function lotsOf(keys: string[], where: string): Promise<string[]> {
      const rows = await q<{ id: string }>(
        `SELECT DISTINCT ON (a.account_id) a.id FROM credit_allocations a
          WHERE a.account_id = ANY ($1::bigint[]) AND a.expires_at > now() AND a.voided_at IS NULL AND ${where}
          ORDER BY a.account_id, a.allocated_at DESC, a.id`,
        [keys],
      );
      return rows.map((r) => r.id);
    }

    /** What each account owed in each currency now, from the lots, the open holds and the disputes. */
    async function snapshot() {
      const [{ at }] = await q<{ at: Date }>(`SELECT clock_timestamp() AS at`);
      const rows = await q<{ account_id: string; currency: string; credits: string; value: string }>(
        `SELECT s.account_id, s.currency, sum(s.credits)::text AS credits, sum(s.value)::text AS value FROM (
           SELECT a.account_id, a.currency, a.remaining_credits::bigint AS credits, a.value_remaining_minor AS value
             FROM credit_allocations a WHERE a.user_id LIKE $1 AND a.currency IS NOT NULL
           UNION ALL
           SELECT l.account_id, l.currency, -l.amount, -l.value_minor
             FROM credit_holds h JOIN credit_ledger l ON l.session_id = h.session_id AND l.account_id = h.account_id
                                                      AND l.kind IN ('hold', 'release')
            WHERE h.settled_at IS NULL AND h.user_id LIKE $1 AND l.currency IS NOT NULL
           UNION ALL
           SELECT l.account_id, l.currency, -l.amount, -l.value_minor
             FROM credit_ledger l WHERE l.kind IN ('freeze', 'unfreeze') AND l.currency IS NOT NULL AND l.user_id LIKE $1
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
  });
});
