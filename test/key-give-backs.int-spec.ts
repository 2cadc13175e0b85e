import { randomUUID } from 'node:crypto';

import pg from 'pg';
import { afterAll, describe, expect, inject, it } from 'vitest';

/**
 * A budgeted key's spend given back (docs/spend-controls.md "Spend controls": one counter for every cap): a hold
 * through the key counts its held credits in the key's bucket of the period it was made in; a
 * settlement that uses less, and a take-back of the hold's credits (a refund or a lost dispute of the
 * purchase they were held from), give them back to that bucket through credit_cap_spend_add(), never
 * below 0.
 */
describe('a key budget given back', () => {
  const db = new pg.Pool({ connectionString: inject('databaseUrl'), max: 2 });
  afterAll(() => db.end());

  /** A user with one lot of `credits`, a key whose budget is 1,000 a day, and the key's bucket read. */
  async function keyed(credits: number) {
    const user = `give-back-${randomUUID()}`;
    const key = randomUUID();
    await db.query(`INSERT INTO user_accounts (user_id) VALUES ($1)`, [user]);
    const {
      rows: [{ account }],
    } = await db.query<{ account: string }>(`SELECT account_id AS account FROM accounts WHERE user_id = $1`, [user]);
    await db.query(
      `INSERT INTO credit_caps (subject_kind, subject_id, account_id, credit_limit, period, owner_id)
       VALUES ('key', $1, 0, 1000, 'day', $2)`,
      [key, user],
    );
    const {
      rows: [{ lot }],
    } = await db.query<{ lot: string }>(
      `SELECT g.id AS lot FROM credits_grant($1, $2, 'test', now() + interval '1 day', NULL, 'manual', NULL, NULL, NULL, false) g`,
      [account, credits],
    );
    const hold = async (session: string, n: number) =>
      (
        await db.query<{ status: string }>(
          `SELECT out_status AS status FROM credits_hold(ARRAY[$1::bigint], ARRAY[$2::int], ARRAY[$3::varchar], '{test}', $4, NULL, '{}', NULL)`,
          [account, n, session, key],
        )
      ).rows[0].status;
    const spent = async () =>
      (
        await db.query<{ spent: string }>(`SELECT sp.spent FROM credit_cap_spent('key', $1, NULL, 'day', now()) sp`, [
          key,
        ])
      ).rows.map((r) => Number(r.spent))[0];
    return { account, lot, key, hold, spent };
  }

  it('a settlement using less gives the rest back to the key', async () => {
    const k = await keyed(100);
    expect(await k.hold('s', 40)).toBe('ok');
    expect(await k.spent()).toBe(40);
    await db.query(`SELECT 1 FROM credits_settle($1, 's', 15, 'test', NULL, NULL, '{}', NULL)`, [k.account]);
    expect(await k.spent()).toBe(15);
  });

  it('a take-back of held credits gives them back to the key, never below 0', async () => {
    const k = await keyed(100);
    expect(await k.hold('s', 40)).toBe('ok');
    expect(await k.spent()).toBe(40);
    // the lot's 60 free credits leave first, then 20 of the 40 held
    const takeBack = (n: number) =>
      db.query(`SELECT * FROM credits_take_back($1, $2, true, 0, 'test', '{}', NULL, true)`, [k.lot, n]);
    await takeBack(80);
    expect(await k.spent()).toBe(20);
    expect(
      (await db.query(`SELECT outstanding, taken_back FROM credit_holds WHERE account_id = $1`, [k.account])).rows,
    ).toEqual([{ outstanding: 20, taken_back: 20 }]);
    // a bucket already lower than what goes back (its period's spend counted elsewhere) stops at 0
    await db.query(`UPDATE credit_cap_spend SET spent = 5 WHERE subject_kind = 'key' AND subject_id = $1`, [k.key]);
    await takeBack(20);
    expect(await k.spent()).toBe(0);
  });
});
