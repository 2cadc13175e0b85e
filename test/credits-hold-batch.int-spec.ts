import { randomUUID } from 'node:crypto';

import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

import { orgWithMemberLimits } from './support/engine-owners.js';

/**
 * credits_hold() takes a batch of holds (a single hold is a batch of one): one take for all of them,
 * each decided after the ones before it, so a batch holds, refuses and writes exactly what the same
 * holds one call each write, and a batch that cannot write a hold row writes nothing.
 */
describe('credits_hold() over a batch', () => {
  const db = new pg.Pool({ connectionString: inject('databaseUrl'), max: 4 });
  afterAll(() => db.end());
  const tag = randomUUID().slice(0, 8);
  const [alice, bob, m1, m2] = ['alice', 'bob', 'm1', 'm2'].map((n) => `hb-${n}-${tag}`);
  const org = `hb-org-${tag}`;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    await db.query(`INSERT INTO user_accounts (user_id) VALUES ($1), ($2), ($3), ($4)`, [alice, bob, m1, m2]);
    await orgWithMemberLimits(db, org, [
      [m1, 10],
      [m2, 1],
    ]);
    for (const [owner, credits] of [
      [alice, 20],
      [bob, 100],
      [org, 100],
    ] as const) {
      const { rows } = await db.query(
        `SELECT account_id::text AS id FROM accounts WHERE ${owner === org ? 'org_id' : 'user_id'} = $1`,
        [owner],
      );
      ids[owner] = rows[0].id;
      await db.query(
        `SELECT 1 FROM credits_grant($1::bigint, $2, 'admin', now() + interval '1 day', NULL, 'manual', NULL, NULL, NULL, false)`,
        [ids[owner], credits],
      );
    }
  });

  interface Hold {
    owner: string;
    amount: number;
    session: string;
    by: string;
    member: string | null;
  }
  const HOLD = `SELECT out_ord, out_status, out_available::int, out_collected::int, out_balance_after::int
                  FROM credits_hold($1::bigint[], $2::int[], $3::varchar[], $4::varchar[], NULL, NULL, '{}', $5::varchar[])`;
  const args = (holds: Hold[]) => [
    holds.map((h) => ids[h.owner]),
    holds.map((h) => h.amount),
    holds.map((h) => h.session),
    holds.map((h) => h.by),
    holds.some((h) => h.member) ? holds.map((h) => h.member) : null,
  ];
  /** What the holds wrote: their rows, ledger lines and the members' counters. */
  const written = async (c: pg.PoolClient, holds: Hold[]) => ({
    holds: (
      await c.query(
        `SELECT session_id, account_id::text, member_id, outstanding FROM credit_holds
          WHERE session_id = ANY($1) ORDER BY session_id, account_id`,
        [holds.map((h) => h.session)],
      )
    ).rows,
    lines: (
      await c.query(
        `SELECT account_id::text, kind, amount, balance_after::int, session_id, member_id, created_by FROM credit_ledger
          WHERE session_id = ANY($1) ORDER BY id`,
        [holds.map((h) => h.session)],
      )
    ).rows,
    counters: (
      await c.query(
        `SELECT subject_id, spent::int FROM credit_cap_spend WHERE subject_kind = 'member' AND subject_id = ANY($1)
          ORDER BY subject_id`,
        [[m1, m2]],
      )
    ).rows,
  });

  /** The holds as one batch and one call each, each in a transaction rolled back: what each answered and wrote. */
  async function both(holds: Hold[]) {
    const c = await db.connect();
    try {
      await c.query('BEGIN');
      const batch = (await c.query(HOLD, args(holds))).rows;
      const batchWrote = await written(c, holds);
      await c.query('ROLLBACK');
      await c.query('BEGIN');
      const alone = [];
      for (const [k, h] of holds.entries()) alone.push({ ...(await c.query(HOLD, args([h]))).rows[0], out_ord: k + 1 });
      const aloneWrote = await written(c, holds);
      await c.query('ROLLBACK');
      return { batch, alone, batchWrote, aloneWrote };
    } finally {
      c.release();
    }
  }

  it('holds, refuses and writes as the same holds one at a time', async () => {
    const s = (n: string) => `${n}-${tag}`;
    const holds: Hold[] = [
      { owner: alice, amount: 12, session: s('a1'), by: alice, member: null },
      { owner: bob, amount: 30, session: s('b1'), by: 'an-admin', member: null },
      { owner: org, amount: 6, session: s('o1'), by: m1, member: m1 },
      { owner: alice, amount: 12, session: s('a2'), by: alice, member: null }, // 8 left: insufficient
      { owner: org, amount: 6, session: s('o2'), by: m1, member: m1 }, // limit 10: member_limit
      { owner: org, amount: 0, session: s('o3'), by: m2, member: m2 }, // counts 1 against a limit of 1
      { owner: alice, amount: 8, session: s('a3'), by: alice, member: null },
      { owner: org, amount: 3, session: s('o4'), by: m1, member: m1 },
    ];
    const { batch, alone, batchWrote, aloneWrote } = await both(holds);
    expect(batch.map((r) => r.out_status)).toEqual([
      'ok',
      'ok',
      'ok',
      'insufficient',
      'member_limit',
      'ok',
      'ok',
      'ok',
    ]);
    expect(batch).toEqual(alone);
    expect(batchWrote).toEqual(aloneWrote);
    expect(batchWrote.holds).toHaveLength(6);
    expect(batchWrote.counters).toEqual([
      { subject_id: m1, spent: 9 },
      { subject_id: m2, spent: 1 },
    ]);
  });

  it("a lone user's hold is taken as one line, answered and written as the general steps do", async () => {
    const FULL = `SELECT out_status, out_available::int, out_headroom::int, out_collected::int, out_debt::int, out_balance_after::int,
                         out_parts, out_retry_after
                    FROM credits_hold($1::bigint[], $2::int[], $3::varchar[], $4::varchar[], NULL, NULL, '{}') ORDER BY out_ord`;
    const session = `lone-${tag}`;
    const lines = async (c: pg.PoolClient) =>
      (
        await c.query(
          `SELECT allocation_id, kind, amount, balance_after::int, session_id, member_id, api_key_id, created_by FROM credit_ledger
            WHERE session_id = $1 ORDER BY id`,
          [session],
        )
      ).rows;
    const c = await db.connect();
    try {
      // alone: credit_take_one() takes it, the decisions and the FIFO never called
      await c.query('BEGIN');
      await c.query(`SET LOCAL track_functions = 'all'`);
      const [alone] = (await c.query(FULL, [[ids[bob]], [5], [session], [bob]])).rows;
      const aloneLines = await lines(c);
      const { rows: calls } = await c.query(
        `SELECT funcname FROM pg_stat_xact_user_functions WHERE funcname IN ('credit_take_one', 'credit_take_decide', 'credit_take_fifo')
          ORDER BY funcname`,
      );
      expect(calls.map((r) => r.funcname)).toEqual(['credit_take_one']);
      await c.query('ROLLBACK');
      // the same hold first of a batch of two: the general steps
      await c.query('BEGIN');
      const [general] = (
        await c.query(FULL, [
          [ids[bob], ids[alice]],
          [5, 1],
          [session, `other-${tag}`],
          [bob, alice],
        ])
      ).rows;
      const generalLines = await lines(c);
      await c.query('ROLLBACK');
      expect(alone.out_status).toBe('ok');
      expect(alone.out_headroom).toBe(0);
      expect(alone.out_parts).toEqual([{ allocationId: aloneLines[0].allocation_id, amount: 5 }]);
      expect(alone).toEqual(general);
      expect(aloneLines).toEqual(generalLines);
      expect(aloneLines).toHaveLength(1);
    } finally {
      c.release();
    }
  });

  it("two zero-estimate holds of one member: the second sees the first's credit", async () => {
    const holds: Hold[] = [
      { owner: org, amount: 0, session: `z1-${tag}`, by: m2, member: m2 },
      { owner: bob, amount: 1, session: `z2-${tag}`, by: bob, member: null },
      { owner: org, amount: 0, session: `z3-${tag}`, by: m2, member: m2 },
    ];
    const { batch, alone, batchWrote, aloneWrote } = await both(holds);
    expect(batch.map((r) => r.out_status)).toEqual(['ok', 'ok', 'member_limit']);
    expect(batch).toEqual(alone);
    expect(batchWrote).toEqual(aloneWrote);
  });

  it("a user's session held twice in one batch, or an org's by two members, writes nothing", async () => {
    const twice = `t-${tag}`;
    const cases: Hold[][] = [
      [
        { owner: bob, amount: 1, session: twice, by: bob, member: null },
        { owner: bob, amount: 2, session: twice, by: bob, member: null },
      ],
      [
        { owner: org, amount: 1, session: twice, by: m1, member: m1 },
        { owner: org, amount: 1, session: twice, by: m2, member: m2 },
      ],
    ];
    for (const holds of cases) {
      const c = await db.connect();
      try {
        await c.query('BEGIN');
        const error = await c.query(HOLD, args(holds)).then(
          () => null,
          (e: { code?: string }) => e,
        );
        expect(['21000', '23505']).toContain(error?.code);
        await c.query('ROLLBACK');
      } finally {
        c.release();
      }
    }
    const { rows } = await db.query(`SELECT count(*)::int AS n FROM credit_holds WHERE session_id = $1`, [twice]);
    expect(rows[0].n).toBe(0);
  });
});
