import { randomUUID } from 'node:crypto';

import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

/**
 * The payer ties (migration 1732008000000, docs/money.md "The payer tied to its owner"): every table
 * that names its paying account beside its owner columns refuses a row whose account is not its
 * payer's (a user's row on another user's or an organisation's account, an organisation's row on
 * another organisation's or a user's), and takes the right ones: for a usage record and a streaming
 * session, an organisation's row on the organisation's account whoever the member who spent. Every
 * write runs in one transaction that is rolled back, each behind a savepoint, so the shared database
 * keeps none of these rows.
 */
const TABLES = ['usage_records', 'streaming_sessions', 'subscriptions', 'purchases', 'promotion_redemptions'] as const;
type Table = (typeof TABLES)[number];

/** A row's owner columns and the account it names: `user` is the member who spent where `org` is set. */
interface Payer {
  user: string | null;
  org: string | null;
  account: string;
}

describe('the payer ties', () => {
  const db = new pg.Client({ connectionString: inject('databaseUrl') });
  const r = randomUUID().slice(0, 8);
  const [userA, userB, orgOne, orgTwo] = [`pt-a-${r}`, `pt-b-${r}`, `pt-o1-${r}`, `pt-o2-${r}`];
  const plan = `pt-plan-${r}`;
  const code = `PT${r}`.toUpperCase();
  const account: Record<string, string> = {};
  let allocation: string;
  let seq = 0;

  beforeAll(async () => {
    await db.connect();
    await db.query('BEGIN');
    await db.query(`INSERT INTO user_accounts (user_id) VALUES ($1), ($2)`, [userA, userB]);
    await db.query(`INSERT INTO orgs (org_id, name, created_by) VALUES ($1, 'One', $3), ($2, 'Two', $3)`, [
      orgOne,
      orgTwo,
      userA,
    ]);
    const { rows } = await db.query<{ owner: string; id: string }>(
      `SELECT coalesce(user_id, org_id) AS owner, account_id::text AS id FROM accounts
        WHERE user_id = ANY($1) OR org_id = ANY($1)`,
      [[userA, userB, orgOne, orgTwo]],
    );
    for (const row of rows) account[row.owner] = row.id;
    expect(Object.keys(account)).toHaveLength(4);
    await db.query(`INSERT INTO plans (id, name, credits, period, created_by) VALUES ($1, 'P', 10, 'month', 'a')`, [
      plan,
    ]);
    await db.query(`INSERT INTO promotions (code, credits, expiry_days, created_by) VALUES ($1, 5, 30, 'a')`, [code]);
    allocation = (
      await db.query<{ id: string }>(
        `INSERT INTO credit_allocations (total_credits, remaining_credits, allocated_by, expires_at, account_id)
         VALUES (5, 5, 'a', now() + interval '30 days', $1) RETURNING id`,
        [account[userA]],
      )
    ).rows[0].id;
  });
  afterAll(async () => {
    await db.query('ROLLBACK');
    await db.end();
  });

  /** Inserts a row of `table` for the payer behind a savepoint: null, or the error's message. */
  async function write(table: Table, p: Payer): Promise<string | null> {
    const [sql, params] = insertOf(table, p);
    await db.query('SAVEPOINT tie');
    try {
      await db.query(sql, params);
      await db.query('RELEASE SAVEPOINT tie');
      return null;
    } catch (error) {
      await db.query('ROLLBACK TO SAVEPOINT tie');
      return (error as Error).message;
    }
  }

  function insertOf(table: Table, { user, org, account: id }: Payer): [string, unknown[]] {
    switch (table) {
      case 'usage_records':
        return [
          `INSERT INTO usage_records (user_id, org_id, account_id, service, operation, credits)
           VALUES ($1, $2, $3, 'chat', 'tie', 1)`,
          [user, org, id],
        ];
      case 'streaming_sessions':
        return [
          `INSERT INTO streaming_sessions (session_id, user_id, org_id, account_id, model_id, estimated_tokens,
                                           estimated_credits, allocated_credits, expires_at)
           VALUES ($1, $2, $3, $4, 'm', 10, 1, 1, now() + interval '1 hour')`,
          [randomUUID(), user, org, id],
        ];
      case 'subscriptions':
        // Ended: one live subscription an account would refuse a second row before the tie is checked.
        return [
          `INSERT INTO subscriptions (user_id, org_id, account_id, plan_id, starts_at, next_grant_at, created_by, ended_at)
           VALUES ($1, $2, $3, $4, now(), now(), 'a', now())`,
          [user, org, id, plan],
        ];
      case 'purchases':
        return [
          `INSERT INTO purchases (user_id, org_id, account_id, credits, amount, currency, provider, expiry_days, created_by)
           VALUES ($1, $2, $3, 10, 1, 'usd', 'manual', 30, 'a')`,
          [user, org, id],
        ];
      case 'promotion_redemptions':
        return [
          `INSERT INTO promotion_redemptions (code, user_id, org_id, account_id, seq, allocation_id, credits, expires_at,
                                              redeemed_by)
           VALUES ($1, $2, $3, $4, $5, $6, 5, now() + interval '30 days', 'a')`,
          [code, user, org, id, ++seq, allocation],
        ];
    }
  }

  const spent = (table: Table) => table === 'usage_records' || table === 'streaming_sessions';

  it.each(TABLES)('%s takes a row on its payer’s account and refuses one on another', async (table) => {
    const a = account[userA];
    const one = account[orgOne];
    // A user's own row, on the user's account.
    expect(await write(table, { user: userA, org: null, account: a })).toBeNull();
    // Another user's account, or an organisation's, for a user's row.
    expect(await write(table, { user: userB, org: null, account: a })).toMatch(`${table}_account_user_fkey`);
    expect(await write(table, { user: userA, org: null, account: one })).toMatch(`${table}_account_user_fkey`);
    // Another organisation's account, or a user's, for an organisation's row.
    const member = spent(table) ? userA : null;
    expect(await write(table, { user: member, org: orgTwo, account: one })).toMatch(`${table}_account_org_fkey`);
    expect(await write(table, { user: member, org: orgOne, account: a })).toMatch(`${table}_account_org_fkey`);
    // An organisation's row on its account; a usage record's and a session's name any member who spent.
    expect(await write(table, { user: member, org: orgOne, account: one })).toBeNull();
    if (spent(table)) expect(await write(table, { user: userB, org: orgOne, account: one })).toBeNull();
    // No account that is not there.
    expect(await write(table, { user: userA, org: null, account: '-1' })).toMatch(`${table}_account_user_fkey`);
  });

  it.each(['usage_records', 'streaming_sessions'] as const)(
    '%s: the payer kind follows the organisation, and no writer sets it',
    async (table) => {
      const { rows } = await db.query<{ org_id: string | null; payer_kind: string | null }>(
        `SELECT org_id, payer_kind FROM ${table} WHERE account_id = ANY($1) ORDER BY org_id NULLS FIRST`,
        [[account[userA], account[orgOne]]],
      );
      expect(rows.map((row) => [row.org_id, row.payer_kind])).toEqual([
        [null, 'user'],
        [orgOne, null],
        [orgOne, null],
      ]);
      await db.query('SAVEPOINT tie');
      await expect(
        db.query(`UPDATE ${table} SET payer_kind = 'org' WHERE account_id = $1`, [account[userA]]),
      ).rejects.toThrow(/payer_kind/);
      await db.query('ROLLBACK TO SAVEPOINT tie');
      // An update that moves a user's row to an organisation, keeping the user's account, is refused too.
      await db.query('SAVEPOINT tie');
      await expect(
        db.query(`UPDATE ${table} SET org_id = $2 WHERE account_id = $1`, [account[userA], orgOne]),
      ).rejects.toThrow(new RegExp(`${table}_account_org_fkey`));
      await db.query('ROLLBACK TO SAVEPOINT tie');
    },
  );
});
