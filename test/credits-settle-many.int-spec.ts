import { randomUUID } from 'node:crypto';

import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

import { orgWithMemberLimits } from './support/engine-owners.js';
import { functionCalls } from './support/function-calls.js';

/**
 * credits_settle_many() settles the settlements whose hold covers the charge together (one read of
 * their hold lines, one call of the ledger's writer, the counters and the holds in one statement
 * each) and the rest one by one through credits_settle(). Either way it answers and writes exactly
 * what credits_settle() answers and writes for each of them called one after another in array
 * order: the same lines (kinds, amounts, balances after, money, sessions, keys, members), the same
 * allocations, holds and counters. Lots that died, were voided or frozen while held, valued lots,
 * a key's counter, members' counters and one account's several sessions are all in the batch.
 */
describe('credits_settle_many() over a batch', () => {
  const db = new pg.Pool({ connectionString: inject('databaseUrl'), max: 4 });
  afterAll(() => db.end());
  const tag = randomUUID().slice(0, 8);
  const [alice, bob, carol, m1, m2] = ['alice', 'bob', 'carol', 'm1', 'm2'].map((n) => `sm-${n}-${tag}`);
  const org = `sm-org-${tag}`;
  const ids: Record<string, string> = {};
  const lots: Record<string, string> = {};
  let key = '';
  const s = (n: string) => `${n}-${tag}`;

  const one = async <T>(sql: string, values: unknown[] = []): Promise<T> => (await db.query(sql, values)).rows[0] as T;
  const grant = async (owner: string, credits: number, days: number, value: number | null = null) =>
    (
      await one<{ id: string }>(
        `SELECT id FROM credits_grant($1::bigint, $2, 'admin', now() + make_interval(days => $3), NULL, 'manual', NULL, NULL,
                                      NULL, false, p_value_minor => $4::bigint, p_currency => CASE WHEN $4::bigint IS NOT NULL THEN 'usd' END)`,
        [ids[owner], credits, days, value],
      )
    ).id;
  const hold = (owner: string, amount: number, session: string, member: string | null, apiKey: string | null = null) =>
    one<{ out_status: string }>(
      `SELECT out_status FROM credits_hold(ARRAY[$1::bigint], ARRAY[$2::int], ARRAY[$3::varchar], ARRAY[$4::varchar], $5::uuid,
                                           NULL, '{}', ARRAY[$6::varchar])`,
      [ids[owner], amount, session, member ?? owner, apiKey, member],
    );

  beforeAll(async () => {
    await db.query(`INSERT INTO user_accounts (user_id) VALUES ($1), ($2), ($3), ($4), ($5)`, [
      alice,
      bob,
      carol,
      m1,
      m2,
    ]);
    await orgWithMemberLimits(db, org, [
      [m1, 100],
      [m2, 5],
    ]);
    for (const owner of [alice, bob, carol, org])
      ids[owner] = (
        await one<{ id: string }>(
          `SELECT account_id::text AS id FROM accounts WHERE ${owner === org ? 'org_id' : 'user_id'} = $1`,
          [owner],
        )
      ).id;
    lots.soon = await grant(alice, 10, 1);
    lots.late = await grant(alice, 10, 20);
    lots.valued = await grant(bob, 10, 5, 1000);
    lots.x = await grant(carol, 10, 5);
    lots.y = await grant(carol, 10, 6);
    lots.org = await grant(org, 100, 5);
    key = (
      await one<{ id: string }>(
        `WITH k AS (INSERT INTO api_keys (user_id, name, key_hash, prefix)
                    VALUES ($1, 'k', sha256(gen_random_uuid()::text::bytea), 'ak_x') RETURNING id, user_id)
         INSERT INTO credit_caps (subject_kind, subject_id, account_id, credit_limit, period, owner_id)
         SELECT 'key', k.id, 0, 1000, 'day', k.user_id FROM k RETURNING subject_id AS id`,
        [bob],
      )
    ).id;
    // alice: 12 held from both lots (10 of `soon`, 2 of `late`), then 5 more of `late`; bob: 7 of the
    // valued lot through the key; carol: 15 (10 of x, 5 of y); the org: 6 for m1, and 0 for m2 (which
    // counts one credit against m2's limit while open).
    for (const h of [
      await hold(alice, 12, s('a1'), null),
      await hold(alice, 5, s('a2'), null),
      await hold(bob, 7, s('b1'), null, key),
      await hold(carol, 15, s('c1'), null),
      await hold(org, 6, s('o1'), m1),
      await hold(org, 0, s('o2'), m2),
    ])
      expect(h.out_status).toBe('ok');
  });

  interface Settlement {
    owner: string;
    session: string;
    charge: number;
    member?: string;
  }
  const SETTLE_MANY = `SELECT * FROM credits_settle_many($1::bigint[], $2::varchar[], $3::int[], $4::varchar[], $5::uuid[],
                                                        NULL, '{}', $6::varchar[], NULL) ORDER BY out_ord`;
  const SETTLE = `SELECT * FROM credits_settle($1::bigint, $2, $3, $4, NULL, NULL, '{}', $5)`;
  const sessions = (items: Settlement[]) => [...new Set(items.map((i) => i.session))];

  /** What the settlements wrote: their lines, the accounts' allocations, the holds, the counters, the debts. */
  const written = async (c: pg.PoolClient, items: Settlement[]) => {
    const accounts = [alice, bob, carol, org].map((o) => ids[o]);
    const rows = async (sql: string, values: unknown[]) => (await c.query(sql, values)).rows;
    return {
      lines: await rows(
        `SELECT account_id::text, allocation_id, kind, amount, balance_after::text, session_id, api_key_id, created_by, member_id,
                value_minor::text, currency, category
           FROM credit_ledger WHERE session_id = ANY($1) AND kind NOT IN ('hold') ORDER BY id`,
        [sessions(items)],
      ),
      allocations: await rows(
        `SELECT id, remaining_credits, value_remaining_minor::text, expiry_done FROM credit_allocations
          WHERE account_id = ANY($1::bigint[]) ORDER BY id`,
        [accounts],
      ),
      holds: await rows(
        `SELECT session_id, outstanding, settled_at IS NOT NULL AS settled FROM credit_holds
          WHERE session_id = ANY($1) ORDER BY session_id`,
        [sessions(items)],
      ),
      counters: await rows(
        `SELECT subject_kind, subject_id, spent::text FROM credit_cap_spend WHERE subject_id = ANY($1) ORDER BY subject_kind, subject_id`,
        [[m1, m2, key]],
      ),
      debts: await rows(
        `SELECT account_id::text, debt FROM credit_accounts WHERE account_id = ANY($1::bigint[]) ORDER BY 1`,
        [accounts],
      ),
    };
  };

  /** Statements that change the lots before the settlements (a lot dying, voided, frozen), in the same transaction. */
  type Before = (c: pg.PoolClient) => Promise<unknown>;

  /**
   * The settlements as one batch and one credits_settle() call each, each in a transaction rolled
   * back: what each answered and wrote, and how many settlements the batch left to credits_settle().
   */
  async function both(items: Settlement[], before: Before = async () => undefined) {
    const c = await db.connect();
    try {
      await c.query('BEGIN');
      await c.query(`SET LOCAL track_functions = 'all'`);
      await before(c);
      const calls = await functionCalls(c, 'credits_settle');
      const batch = (
        await c.query(SETTLE_MANY, [
          items.map((i) => ids[i.owner]),
          items.map((i) => i.session),
          items.map((i) => i.charge),
          items.map((i) => i.member ?? i.owner),
          items.map(() => null),
          items.some((i) => i.member) ? items.map((i) => i.member ?? null) : null,
        ])
      ).rows;
      const oneByOne = (await functionCalls(c, 'credits_settle')) - calls;
      const batchWrote = await written(c, items);
      await c.query('ROLLBACK');
      await c.query('BEGIN');
      await before(c);
      const alone = [];
      for (const [k, i] of items.entries()) {
        const row = (await c.query(SETTLE, [ids[i.owner], i.session, i.charge, i.member ?? i.owner, i.member ?? null]))
          .rows[0];
        alone.push({ out_ord: k + 1, ...row });
      }
      const aloneWrote = await written(c, items);
      await c.query('ROLLBACK');
      return { batch, alone, batchWrote, aloneWrote, oneByOne };
    } finally {
      c.release();
    }
  }

  const covered: Settlement[] = [
    { owner: alice, session: s('a1'), charge: 3 }, // 9 back: 2 to `late`, 7 to `soon`
    { owner: bob, session: s('b1'), charge: 2 }, // 5 back to the valued lot, with their money, and to the key
    { owner: alice, session: s('a2'), charge: 1 }, // 4 back to `late`, after a1's lines
    { owner: org, session: s('o1'), charge: 1, member: m1 }, // 5 back to m1's day
    { owner: org, session: s('o2'), charge: 0, member: m2 }, // the zero hold's one credit back to m2's day
    { owner: carol, session: s('c1'), charge: 4 }, // 11 back: 5 to y, 6 to x
  ];

  it('settles together, answering and writing what each settled alone in array order would', async () => {
    const { batch, alone, batchWrote, aloneWrote, oneByOne } = await both(covered);
    expect(oneByOne).toBe(0);
    expect(batch.map((r) => [r.out_status, r.out_refund])).toEqual([
      ['ok', '9'],
      ['ok', '5'],
      ['ok', '4'],
      ['ok', '5'],
      ['ok', '0'],
      ['ok', '11'],
    ]);
    expect(batch).toEqual(alone);
    expect(batchWrote).toEqual(aloneWrote);
    // the valued lot's money came back with its credits, and the key's counter went down by the refund
    expect(batchWrote.lines.find((l) => l.session_id === s('b1'))).toMatchObject({
      kind: 'release',
      amount: 5,
      api_key_id: key,
      currency: 'usd',
      value_minor: '500',
    });
    expect(batchWrote.counters).toEqual([
      { subject_kind: 'key', subject_id: key, spent: '2' },
      { subject_kind: 'member', subject_id: m1, spent: '1' },
      { subject_kind: 'member', subject_id: m2, spent: '0' },
    ]);
    expect(batchWrote.holds.every((h) => h.settled && h.outstanding === 0)).toBe(true);
  });

  it('credits given back to a lot that died while held leave again at once, as alone', async () => {
    const died: Before = (c) =>
      c.query(`UPDATE credit_allocations SET expires_at = now() - interval '1 millisecond' WHERE id = ANY($1)`, [
        [lots.soon, lots.x],
      ]);
    const { batch, alone, batchWrote, aloneWrote, oneByOne } = await both(covered, died);
    expect(oneByOne).toBe(0);
    expect(batch).toEqual(alone);
    expect(batchWrote).toEqual(aloneWrote);
    expect(batch[0]).toMatchObject({ out_released: '9', out_expired: '-7' });
    expect(batchWrote.lines.filter((l) => l.kind === 'expire').map((l) => [l.allocation_id, l.amount])).toEqual([
      [lots.soon, -7],
      [lots.x, -6],
    ]);
  });

  it('a voided lot and a frozen lot take their credits back at once, as alone', async () => {
    const changed: Before = async (c) => {
      await c.query(`SELECT 1 FROM credits_void($1, 'admin', 'test', '{}')`, [lots.x]);
      await c.query(`SELECT credits_freeze($1, true, 'admin', '{}')`, [lots.y]);
      await c.query(`SELECT credits_freeze($1, true, 'admin', '{}')`, [lots.valued]);
    };
    const { batch, alone, batchWrote, aloneWrote, oneByOne } = await both(covered, changed);
    expect(oneByOne).toBe(0);
    expect(batch).toEqual(alone);
    expect(batchWrote).toEqual(aloneWrote);
    expect(batch[5]).toMatchObject({ out_released: '11', out_voided: '-6', out_expired: '0' });
    expect(batchWrote.lines.filter((l) => l.kind === 'freeze').map((l) => [l.allocation_id, l.amount])).toEqual([
      [lots.valued, -5],
      [lots.y, -5],
    ]);
  });

  it('a hold a refund took credits from settles against what is left, as alone', async () => {
    // the purchase refunded with debt allowed: its 3 free credits, then 2 of b1's hold of 7
    const refunded: Before = (c) =>
      c.query(`SELECT 1 FROM credits_take_back($1, 5, true, 0, 'admin', '{}')`, [lots.valued]);
    const takenBack = async () => {
      const c = await db.connect();
      try {
        await c.query('BEGIN');
        await refunded(c);
        return (await c.query(`SELECT outstanding, taken_back FROM credit_holds WHERE session_id = $1`, [s('b1')]))
          .rows[0];
      } finally {
        await c.query('ROLLBACK');
        c.release();
      }
    };
    expect(await takenBack()).toEqual({ outstanding: 5, taken_back: 2 });
    for (const charge of [2, 6]) {
      const items = covered.map((i) => (i.session === s('b1') ? { ...i, charge } : i));
      const { batch, alone, batchWrote, aloneWrote, oneByOne } = await both(items, refunded);
      // within what is left: together; beyond it: credits_settle(), its use of the 2 taken a shortfall
      expect(oneByOne).toBe(charge === 2 ? 0 : 1);
      expect(batch[1]).toMatchObject(
        charge === 2 ? { out_refund: '3', out_shortfall: '0' } : { out_refund: '0', out_shortfall: '1' },
      );
      // beyond: b1 writes no line (its overrun is a shortfall, nothing taken), so the lines match too
      expect(batch).toEqual(alone);
      expect(batchWrote).toEqual(aloneWrote);
    }
  });

  it('leaves an overrun, a session without a hold and a session named twice to credits_settle(), after the rest', async () => {
    const items: Settlement[] = [
      ...covered.filter((i) => i.session !== s('c1')),
      { owner: carol, session: s('c1'), charge: 20 }, // 5 over its hold of 15: taken from carol's balance
      { owner: carol, session: s('none'), charge: 2 }, // no hold: the whole charge is the overrun
      { owner: alice, session: s('a1'), charge: 3 }, // settled already by the first
    ];
    const { batch, alone, batchWrote, aloneWrote, oneByOne } = await both(items);
    expect(oneByOne).toBe(3);
    expect(batch.map((r) => r.out_status)).toEqual(['ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'already_settled']);
    expect(batch[5]).toMatchObject({ out_refund: '0', out_collected: '5' });
    expect(batch).toEqual(alone);
    expect(batchWrote).toEqual(aloneWrote);
  });

  it('a settlement alone is credits_settle() itself', async () => {
    const items: Settlement[] = [{ owner: alice, session: s('a1'), charge: 3 }];
    const { batch, alone, batchWrote, aloneWrote, oneByOne } = await both(items);
    expect(oneByOne).toBe(1);
    expect(batch.map((r) => [r.out_ord, r.out_status, r.out_refund])).toEqual([[1, 'ok', '9']]);
    expect(batch).toEqual(alone);
    expect(batchWrote).toEqual(aloneWrote);
  });

  it('a hold whose lines give back less than its refund fails the batch, as credits_give_back() fails alone', async () => {
    // Three credits more outstanding than bob's hold lines hold: the give-back cannot find them all.
    const before: Before = (c) =>
      c.query(`UPDATE credit_holds SET outstanding = outstanding + 3 WHERE session_id = $1`, [s('b1')]);
    const failure = async (sql: string, values: unknown[]) => {
      const c = await db.connect();
      try {
        await c.query('BEGIN');
        await before(c);
        return await c.query(sql, values).then(
          () => null,
          (error: Error) => error.message,
        );
      } finally {
        await c.query('ROLLBACK');
        c.release();
      }
    };
    // Its refund, 10 - 2 = 8, is one credit more than its lines hold (7).
    const message = `credits_give_back: 1 credits more than session ${s('b1')} holds`;
    const items = covered.slice(0, 3);
    expect(
      await failure(SETTLE_MANY, [
        items.map((i) => ids[i.owner]),
        items.map((i) => i.session),
        items.map((i) => i.charge),
        items.map((i) => i.owner),
        items.map(() => null),
        null,
      ]),
    ).toBe(message);
    expect(await failure(SETTLE, [ids[bob], s('b1'), 2, bob, null])).toBe(message);
  });

  it('a charge beyond what the hold covers is never settled together, whatever the rest of the batch', async () => {
    const items: Settlement[] = [
      { owner: alice, session: s('a1'), charge: 12 }, // exactly the hold: nothing back
      { owner: bob, session: s('b1'), charge: 8 }, // 1 over
    ];
    const { batch, alone, batchWrote, aloneWrote, oneByOne } = await both(items);
    expect(oneByOne).toBe(1);
    expect(batch.map((r) => [r.out_status, r.out_refund, r.out_collected])).toEqual([
      ['ok', '0', '0'],
      ['ok', '0', '1'],
    ]);
    expect(batch).toEqual(alone);
    expect(batchWrote).toEqual(aloneWrote);
  });
});
