import type pg from 'pg';

import type { FinancePurchases } from './finance-purchases.js';

/**
 * The operations of the finance property test (test/finance-money.int-spec.ts): one worker per
 * connection drives its own slice of the accounts, round by round, every operation of a kind for all
 * its accounts in one statement through the engine's SQL functions. Its accounts are its own, so its
 * statements lock only them (a transfer stays inside the slice) and two workers never wait on each
 * other's locks in opposite orders.
 */
export const CURRENCIES = ['usd', 'eur'] as const;
const RATE = 2_000_000_000;
/** The rounds a lot lives (age()): each account keeps a few live lots, whatever the count. */
const LIFETIME = 8;

export const OPERATIONS = [
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
  ['purchase', 2],
  ['purchaseRefund', 1],
  ['purchaseDispute', 1],
] as const;
export type Operation = (typeof OPERATIONS)[number][0];
const WEIGHT = OPERATIONS.reduce((n, [, w]) => n + w, 0);

/** mulberry32: a small seeded generator, so a seed replays the same operations. */
export function generator(seed: number) {
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

export class FinanceWorker {
  private readonly rnd: ReturnType<typeof generator>;
  /** The open session of each account of the slice that holds one. */
  private readonly sessions = new Map<number, string>();
  readonly counts = new Map<Operation, number>();
  /** Lots expired by age (age()), besides the `expire` operations. */
  aged = 0;
  /** When each round started (the database's clock). */
  private readonly starts: Date[] = [];

  /** `owners` and `accountIds` are every account's; this worker's are the indexes [from, to). */
  constructor(
    private readonly db: pg.Client,
    seed: number,
    private readonly owners: string[],
    private readonly accountIds: string[],
    private readonly from: number,
    private readonly to: number,
    readonly purchases: FinancePurchases,
  ) {
    this.rnd = generator(seed);
  }

  private async q<T extends pg.QueryResultRow>(sql: string, params: unknown[] = []) {
    return (await this.db.query<T>(sql, params)).rows;
  }

  /** One round: an operation for each of the slice's first `budget` accounts; answers how many ran. */
  async round(r: number, budget: number): Promise<number> {
    const groups = new Map<Operation, number[]>();
    const end = Math.min(this.to, this.from + budget);
    for (let i = this.from; i < end; i++) {
      let pick = this.rnd.int(0, WEIGHT - 1);
      let op: Operation = 'record';
      for (const [name, w] of OPERATIONS) {
        if (pick < w) {
          op = name;
          break;
        }
        pick -= w;
      }
      if (op === 'hold' && this.sessions.has(i)) op = 'settle';
      if (op === 'settle' && !this.sessions.has(i)) op = 'record';
      const members = groups.get(op) ?? [];
      members.push(i);
      groups.set(op, members);
      this.counts.set(op, (this.counts.get(op) ?? 0) + 1);
    }
    for (const [op, members] of groups) await this.run(op, members, r);
    await this.age();
    return end - this.from;
  }

  /**
   * Time passing: a lot lives LIFETIME rounds, then expires (its money is breakage). Without it the
   * lots grew without bound (grants bring more credits than records spend), and every take read and
   * locked all of its account's live lots: each round dearer than the one before.
   */
  private async age(): Promise<void> {
    const [{ at }] = await this.q<{ at: Date }>(`SELECT now() AS at`);
    this.starts.push(at);
    if (this.starts.length <= LIFETIME) return;
    const rows = await this.q<{ n: string }>(
      `WITH due AS (UPDATE credit_allocations a SET expires_at = now()
                     WHERE a.account_id = ANY ($1::bigint[]) AND a.allocated_at < $2 AND a.expires_at > now()
                       AND a.remaining_credits > 0 RETURNING 1)
       SELECT count(*)::text AS n FROM due`,
      [this.accountIds.slice(this.from, this.to), this.starts[this.starts.length - 1 - LIFETIME]],
    );
    await this.q(`SELECT * FROM credits_expire_due(100000, '{}', '{}', '{}')`);
    this.aged += Number(rows[0].n);
  }

  /** Settles every open session at nothing used (an abort). */
  async settleAll(): Promise<void> {
    const open = [...this.sessions.keys()];
    await this.settle(
      open,
      open.map(() => 0),
    );
  }

  private async run(op: Operation, members: number[], r: number): Promise<void> {
    const rnd = this.rnd;
    const who = members.map((i) => this.owners[i]);
    const keys = members.map((i) => this.accountIds[i]);
    const n = members.map(() => rnd.int(1, 40));
    switch (op) {
      case 'record':
        await this.q(
          `SELECT count(*) FROM credits_take_events('prop', NULL, ${RATE}, '{}', $1::bigint[], $2::int[],
                    (SELECT array_agg(gen_random_uuid()) FROM generate_series(1, cardinality($1::bigint[]))))`,
          [keys, n],
        );
        return;
      case 'collect':
        await this.q(
          `SELECT count(*) FROM credits_take_events('prop', NULL, ${RATE}, '{}', $1::bigint[], $2::int[],
                    (SELECT array_agg(gen_random_uuid()) FROM generate_series(1, cardinality($1::bigint[]))),
                    NULL, NULL, array_fill('collect'::varchar, ARRAY[cardinality($1::bigint[])]))`,
          [keys, n],
        );
        return;
      case 'grantValued':
      case 'grantPromo': {
        const valued = op === 'grantValued';
        await this.q(
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
        const rows = await this.q<{ ok: boolean }>(
          `SELECT h.out_status = 'ok' AS ok FROM unnest($1::bigint[], $2::int[], $3::varchar[]) WITH ORDINALITY x(o, n, s, k),
                  LATERAL credits_hold(ARRAY[x.o], ARRAY[x.n], ARRAY[x.s], '{prop}', NULL, ${RATE}, '{}') h ORDER BY x.k`,
          [keys, n, sids],
        );
        rows.forEach((row, k) => row.ok && this.sessions.set(members[k], sids[k]));
        return;
      }
      case 'settle':
        await this.settle(
          members,
          members.map(() => (rnd.int(0, 3) === 0 ? 0 : rnd.int(0, 60))),
        );
        return;
      case 'transfer':
        await this.q(
          `SELECT count(*) FROM unnest($1::bigint[], $2::bigint[], $3::int[]) x(f, t, n),
                  LATERAL credits_transfer(x.f, x.t, x.n, NULL, 'prop', '{}') m`,
          [keys, members.map(() => this.accountIds[rnd.int(this.from, this.to - 1)]), n],
        );
        return;
      case 'expire':
        // Only the slice's lots are made due; the expiry job then locks the accounts of every lot due.
        await this.q(
          `UPDATE credit_allocations a SET expires_at = now()
             FROM (SELECT DISTINCT ON (c.account_id) c.id FROM credit_allocations c
                    WHERE c.account_id = ANY ($1::bigint[]) AND c.remaining_credits > 0 AND c.expires_at > now()
                    ORDER BY c.account_id, c.allocated_at, c.id) d
            WHERE a.id = d.id`,
          [keys],
        );
        await this.q(`SELECT * FROM credits_expire_due(100000, '{}', '{}', '{}')`);
        return;
      case 'refund': {
        const lots = await this.lotsOf(keys, 'NOT a.frozen AND a.value_minor IS NOT NULL');
        await this.q(
          `SELECT count(*) FROM unnest($1::uuid[], $2::int[], $3::boolean[]) x(id, n, debt),
                  LATERAL credits_take_back(x.id, x.n, x.debt, 0, 'prop', '{}', NULL, false) t`,
          [lots, lots.map(() => rnd.int(1, 60)), lots.map(() => rnd.int(0, 1) === 1)],
        );
        return;
      }
      case 'disputeOpen': {
        const lots = await this.lotsOf(keys, 'NOT a.frozen AND a.value_minor IS NOT NULL');
        await this.q(`SELECT count(credits_freeze(x.id, true, 'prop', '{}')) FROM unnest($1::uuid[]) x(id)`, [lots]);
        return;
      }
      case 'void': {
        const lots = await this.lotsOf(keys, 'NOT a.frozen');
        await this.q(
          `SELECT count(*) FROM unnest($1::uuid[]) x(id), LATERAL credits_void(x.id, 'prop', NULL, '{}') v`,
          [lots],
        );
        return;
      }
      case 'purchase': {
        const bought = members.map(() => ({ amount: rnd.int(1, 50_000), currency: CURRENCIES[rnd.int(0, 1)] }));
        let k = 0;
        await this.purchases.each(who, (o) => {
          const { amount, currency } = bought[k];
          return this.purchases.buy(o, n[k++] * 25, amount, currency);
        });
        return;
      }
      case 'purchaseRefund':
        await this.purchases.each(who, (o) => this.purchases.refund(o, rnd.next));
        return;
      case 'purchaseDispute':
        await this.purchases.each(who, (o) => this.purchases.dispute(o, rnd.next));
        return;
      case 'disputeClose': {
        const lots = await this.lotsOf(keys, 'a.frozen');
        await this.q(`SELECT count(credits_freeze(x.id, false, 'prop', '{}')) FROM unnest($1::uuid[]) x(id)`, [lots]);
        const lost = lots.filter(() => rnd.int(0, 1) === 1);
        await this.q(
          `SELECT count(*) FROM unnest($1::uuid[]) x(id),
                  LATERAL credits_take_back(x.id, 1000000, true, 0, 'prop', '{}', NULL, true) t`,
          [lost],
        );
        return;
      }
    }
  }

  /** Settles the members' open sessions at these charges (0: nothing used, an abort). */
  private async settle(members: number[], charges: number[]): Promise<void> {
    await this.q(
      `SELECT count(*) FROM unnest($1::bigint[], $2::varchar[], $3::int[]) x(o, s, c),
              LATERAL credits_settle(x.o, x.s, x.c, 'prop', NULL, ${RATE}, '{}') t`,
      [members.map((i) => this.accountIds[i]), members.map((i) => this.sessions.get(i)!), charges],
    );
    for (const i of members) this.sessions.delete(i);
  }

  /** The latest live lot of each account that has one matching `where`. */
  private async lotsOf(keys: string[], where: string): Promise<string[]> {
    const rows = await this.q<{ id: string }>(
      `SELECT DISTINCT ON (a.account_id) a.id FROM credit_allocations a
        WHERE a.account_id = ANY ($1::bigint[]) AND a.expires_at > now() AND a.voided_at IS NULL AND ${where}
        ORDER BY a.account_id, a.allocated_at DESC, a.id`,
      [keys],
    );
    return rows.map((r) => r.id);
  }
}
