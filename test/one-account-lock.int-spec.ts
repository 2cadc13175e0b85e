import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startTestApp, type TestApp } from './support/app.js';
import { expireAllocationNow } from './support/clock.js';
import { Fixtures } from './support/fixtures.js';

/**
 * The account lock and the FIFO read (credits_lock_account_ids(), credit_allocations_fifo(); docs/money.md
 * "The account lock", "FIFO") called for one account, as a record alone, a hold and every settlement
 * call them: they answer and lock what a call naming several accounts does for that one.
 */
describe('the lock and the FIFO of one account', () => {
  let t: TestApp;
  let f: Fixtures;

  beforeAll(async () => {
    t = await startTestApp({ JOBS_ENABLED: 'false' });
    f = new Fixtures(t, { prefix: 'onelock' });
  });
  afterAll(() => t.close());

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
      credits: [
        { credits: 5, expiryDays: 9 },
        { credits: 7, expiryDays: 2 },
        { credits: 3, expiryDays: 4 },
        { credits: 4, expiryDays: 6 },
      ],
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
});
