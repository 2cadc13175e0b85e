import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startTestApp, type TestApp } from './support/app.js';
import { expireAllocationNow } from './support/clock.js';
import { Fixtures } from './support/fixtures.js';

/**
 * The account lock and the FIFO read (credits_lock_account_ids(), credit_allocations_fifo(); docs/money.md
 * "The account lock", "FIFO") called for one account, as a record alone, a hold and every settlement
 * call them: they answer and lock what a call naming several accounts does for that one. A take of
 * one account takes both by statements of its own (credit_take_accounts(), credit_take_lots()): the
 * same rows, order and locks.
 */
describe('the lock and the FIFO of one account', () => {
  let t: TestApp;
  let f: Fixtures;

  beforeAll(async () => {
    t = await startTestApp({ JOBS_ENABLED: 'false' });
    f = new Fixtures(t, { prefix: 'onelock' });
  });
  afterAll(() => t.close());

  /** Four live lots: the last to expire, the soonest, the middle one and one the cases expire now. */
  const fourLots = [
    { credits: 5, expiryDays: 9 },
    { credits: 7, expiryDays: 2 },
    { credits: 3, expiryDays: 4 },
    { credits: 4, expiryDays: 6 },
  ];

  const accountOf = async (userId: string): Promise<string> =>
    (await t.db.query(`SELECT account_id FROM accounts WHERE user_id = $1`, [userId])).rows[0].account_id as string;

  it('answers the id of an account, nothing for an unknown or a NULL id, as the shape for many does', async () => {
    const u = await f.newUser();
    const id = await accountOf(u.id);
    const one = async (ids: string) =>
      (await t.db.query(`SELECT x::text AS id FROM credits_lock_account_ids($1::bigint[]) x`, [ids])).rows;
    expect(await one(`{${id}}`)).toEqual([{ id }]);
    expect(await one('{-1}')).toEqual([]);
    expect(await one('{NULL}')).toEqual([]);
    // the shape for many, with the same id twice and an unknown one: the same single answer
    expect(await one(`{${id},${id},-1}`)).toEqual([{ id }]);
  });

  it('holds the account row until the transaction ends', async () => {
    const u = await f.newUser();
    const id = await accountOf(u.id);
    const holder = await t.db.connect();
    const other = await t.db.connect();
    try {
      await holder.query('BEGIN');
      await holder.query(`SELECT * FROM credits_lock_account_ids(ARRAY[$1::bigint])`, [id]);
      // each NOWAIT in a transaction of its own (autocommit), as below
      const probe = () => other.query(`SELECT 1 FROM accounts WHERE account_id = $1 FOR NO KEY UPDATE NOWAIT`, [id]);
      await expect(probe()).rejects.toThrow(/could not obtain lock/);
      await holder.query('ROLLBACK');
      expect((await probe()).rowCount).toBe(1);
    } finally {
      await holder.query('ROLLBACK');
      holder.release();
      other.release();
    }
  });

  it('reads one account’s live allocations with credits, soonest expiry first, and locks them', async () => {
    const u = await f.newUser({
      credits: fourLots,
    });
    const [late, soon, middle, gone] = u.allocationIds;
    await expireAllocationNow(t.db, gone);
    const id = await accountOf(u.id);
    const fifo = async (ids: string) =>
      (
        await t.db.query(
          `SELECT out_id AS id, out_remaining AS remaining FROM credit_allocations_fifo($1::bigint[]) WHERE out_account_id = $2`,
          [ids, id],
        )
      ).rows;
    const expected = [
      { id: soon, remaining: 7 },
      { id: middle, remaining: 3 },
      { id: late, remaining: 5 },
    ];
    expect(await fifo(`{${id}}`)).toEqual(expected);
    // the shape for many answers the same rows for this account
    const another = await accountOf((await f.newUser({ credits: 2 })).id);
    expect(await fifo(`{${another},${id}}`)).toEqual(expected);

    const holder = await t.db.connect();
    const other = await t.db.connect();
    try {
      await holder.query('BEGIN');
      await holder.query(`SELECT * FROM credit_allocations_fifo(ARRAY[$1::bigint])`, [id]);
      // each NOWAIT in a transaction of its own (autocommit), so the refused one aborts nothing
      await expect(
        other.query(`SELECT 1 FROM credit_allocations WHERE id = $1 FOR UPDATE NOWAIT`, [soon]),
      ).rejects.toThrow(/could not obtain lock/);
      // the expired one was not read, so not locked
      const expired = await other.query(`SELECT 1 FROM credit_allocations WHERE id = $1 FOR UPDATE NOWAIT`, [gone]);
      expect(expired.rowCount).toBe(1);
    } finally {
      await holder.query('ROLLBACK');
      holder.release();
      other.release();
    }
  });

  it('a take of one account locks its row and reads its lots as the functions above do', async () => {
    const u = await f.newUser({
      credits: [...fourLots, { credits: 6, expiryDays: 6 }],
    });
    const [, soon, , gone, spent] = u.allocationIds;
    await expireAllocationNow(t.db, gone);
    const id = await accountOf(u.id);
    // a tie on the expiry and the allocation instant (another user's lot moved here with the soonest
    // lot's instants) is broken by the id; a lot with no credits left is not read
    const twin = await f.newUser({ credits: 1 });
    await t.db.query(`UPDATE credit_allocations SET remaining_credits = 0 WHERE id = $1`, [spent]);
    await t.db.query(
      `UPDATE credit_allocations SET account_id = $1, expires_at = (SELECT expires_at FROM credit_allocations WHERE id = $2),
              allocated_at = (SELECT allocated_at FROM credit_allocations WHERE id = $2)
        WHERE id = $3`,
      [id, soon, twin.allocationIds[0]],
    );
    const fifo = (
      await t.db.query(
        `SELECT out_id AS id, out_remaining AS remaining FROM credit_allocations_fifo(ARRAY[$1::bigint])`,
        [id],
      )
    ).rows as { id: string; remaining: number }[];
    expect(fifo).toHaveLength(4);
    const [lots] = (await t.db.query(`SELECT * FROM credit_take_lots(ARRAY[$1::bigint])`, [id])).rows;
    expect(lots).toEqual({
      out_id: fifo.map((r) => r.id),
      out_remaining: fifo.map((r) => r.remaining),
      out_first: [1],
      out_last: [4],
      out_available: [String(fifo.reduce((sum, r) => sum + r.remaining, 0))],
    });

    const holder = await t.db.connect();
    const other = await t.db.connect();
    try {
      await holder.query('BEGIN');
      const [accounts] = (await holder.query(`SELECT * FROM credit_take_accounts(ARRAY[$1::bigint], NULL)`, [id])).rows;
      expect(accounts).toEqual({ out_u: [1], out_acc: [id], out_known: [true], out_org: [null] });
      await holder.query(`SELECT * FROM credit_take_lots(ARRAY[$1::bigint])`, [id]);
      // each NOWAIT in a transaction of its own (autocommit), so the refused one aborts nothing
      await expect(
        other.query(`SELECT 1 FROM accounts WHERE account_id = $1 FOR NO KEY UPDATE NOWAIT`, [id]),
      ).rejects.toThrow(/could not obtain lock/);
      for (const lot of fifo) {
        await expect(
          other.query(`SELECT 1 FROM credit_allocations WHERE id = $1 FOR UPDATE NOWAIT`, [lot.id]),
        ).rejects.toThrow(/could not obtain lock/);
      }
      // the expired lot and the spent one were not read, so not locked
      for (const unread of [gone, spent]) {
        const free = await other.query(`SELECT 1 FROM credit_allocations WHERE id = $1 FOR UPDATE NOWAIT`, [unread]);
        expect(free.rowCount).toBe(1);
      }
      // a key share (a row about to reference the account) is not blocked: NO KEY UPDATE
      const share = await other.query(`SELECT 1 FROM accounts WHERE account_id = $1 FOR KEY SHARE NOWAIT`, [id]);
      expect(share.rowCount).toBe(1);
    } finally {
      await holder.query('ROLLBACK');
      holder.release();
      other.release();
    }
  });
});
