import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { PayerTies1732008000000 } from '../migrations/1732008000000-payer-ties.js';
import { MIGRATIONS } from '../migrations/index.js';
import { MigrationDatabase } from './support/migration-database.js';

const TABLES = ['usage_records', 'streaming_sessions', 'subscriptions', 'purchases', 'promotion_redemptions'];

/**
 * Migration 1732008000000 ties each money row's account to its owner columns: over existing rows it
 * adds the pairs' keys (and the usage records' and sessions' generated `payer_kind`) in place of the
 * single keys they make redundant; a row already charged to another account than its payer's stops
 * it, named by the key; down puts the single keys back, and it runs again.
 */
describe('the payer ties migration', () => {
  let own: MigrationDatabase;
  let db: pg.Pool;
  const at = MIGRATIONS.indexOf(PayerTies1732008000000);

  beforeAll(async () => {
    own = await MigrationDatabase.create('accounting_payer_ties');
    db = own.db;
  });
  afterAll(() => own?.close());

  /** The foreign keys of the five tables, each as PostgreSQL prints it. */
  const keys = async () =>
    (
      await db.query<{ key: string }>(
        `SELECT conrelid::regclass || ' ' || conname || ' ' || pg_get_constraintdef(oid) AS key FROM pg_constraint
          WHERE contype = 'f' AND conrelid::regclass::text = ANY($1) ORDER BY 1`,
        [TABLES],
      )
    ).rows
      .map((r) => r.key)
      .sort();
  /** Each row's table, owner and account's owner, the payer kind where the table has one. */
  const rows = async () =>
    (
      await db.query<{ row: string }>(
        `SELECT concat_ws(' ', t.tbl, t.user_id, t.org_id, coalesce(a.user_id, a.org_id), t.payer_kind) AS row
           FROM (SELECT 'usage_records' AS tbl, user_id, org_id, account_id, to_jsonb(r) ->> 'payer_kind' AS payer_kind
                   FROM usage_records r
                 UNION ALL SELECT 'streaming_sessions', user_id, org_id, account_id, to_jsonb(s) ->> 'payer_kind'
                   FROM streaming_sessions s
                 UNION ALL SELECT 'subscriptions', user_id, org_id, account_id, NULL FROM subscriptions
                 UNION ALL SELECT 'purchases', user_id, org_id, account_id, NULL FROM purchases
                 UNION ALL SELECT 'promotion_redemptions', user_id, org_id, account_id, NULL FROM promotion_redemptions) t
           JOIN accounts a ON a.account_id = t.account_id
          ORDER BY 1`,
      )
    ).rows.map((r) => r.row);

  it('ties the existing rows, stops on a row charged to another payer, and goes down and up again', async () => {
    expect(at).toBeGreaterThan(10);
    await own.migrate(MIGRATIONS.slice(0, at));
    const before = await keys();
    expect(before).toContain(
      'usage_records usage_records_account_id_fkey FOREIGN KEY (account_id) REFERENCES accounts(account_id)',
    );
    await db.query(`INSERT INTO user_accounts (user_id) VALUES ('t-a'), ('t-b')`);
    await db.query(`INSERT INTO orgs (org_id, name, created_by) VALUES ('t-o', 'O', 't-a')`);
    await db.query(`INSERT INTO plans (id, name, credits, period, created_by) VALUES ('t-p', 'P', 10, 'month', 'x')`);
    await db.query(`INSERT INTO promotions (code, credits, expiry_days, created_by) VALUES ('TIES', 5, 30, 'x')`);
    const of = (column: 'user_id' | 'org_id', owner: string) =>
      `(SELECT account_id FROM accounts WHERE ${column} = '${owner}')`;
    const allocation = (
      await db.query<{ id: string }>(
        `INSERT INTO credit_allocations (total_credits, remaining_credits, allocated_by, expires_at, account_id)
         VALUES (5, 5, 'x', now() + interval '30 days', ${of('user_id', 't-a')}) RETURNING id`,
      )
    ).rows[0].id;
    // Each table: the user t-a's own row, and the organisation's (a record and a session by its member t-b).
    for (const [user, org, payer] of [
      [`'t-a'`, 'NULL', of('user_id', 't-a')],
      [`'t-b'`, `'t-o'`, of('org_id', 't-o')],
    ]) {
      const owner = org === 'NULL' ? `${user}, NULL` : `NULL, ${org}`;
      await db.query(`INSERT INTO usage_records (user_id, org_id, account_id, service, operation, credits)
                      VALUES (${user}, ${org}, ${payer}, 'chat', 'x', 1)`);
      await db.query(`INSERT INTO streaming_sessions (session_id, user_id, org_id, account_id, model_id, estimated_tokens,
                        estimated_credits, allocated_credits, expires_at)
                      VALUES ('s', ${user}, ${org}, ${payer}, 'm', 10, 1, 1, now() + interval '1 hour')`);
      await db.query(`INSERT INTO subscriptions (user_id, org_id, account_id, plan_id, starts_at, next_grant_at, created_by)
                      VALUES (${owner}, ${payer}, 't-p', now(), now(), 'x')`);
      await db.query(`INSERT INTO purchases (user_id, org_id, account_id, credits, amount, currency, provider,
                        expiry_days, created_by)
                      VALUES (${owner}, ${payer}, 10, 1, 'usd', 'manual', 30, 'x')`);
      await db.query(`INSERT INTO promotion_redemptions (code, user_id, org_id, account_id, seq, allocation_id, credits,
                        expires_at, redeemed_by)
                      VALUES ('TIES', ${owner}, ${payer}, 1, '${allocation}', 5, now() + interval '30 days', 'x')`);
    }
    const filled = await rows();
    expect(filled).toEqual([
      'promotion_redemptions t-a t-a',
      'promotion_redemptions t-o t-o',
      'purchases t-a t-a',
      'purchases t-o t-o',
      'streaming_sessions t-a t-a',
      'streaming_sessions t-b t-o t-o',
      'subscriptions t-a t-a',
      'subscriptions t-o t-o',
      'usage_records t-a t-a',
      'usage_records t-b t-o t-o',
    ]);

    // A record of t-b's own use charged to t-a's account: the migration stops, named by the key, and
    // leaves the schema as it was.
    const wrong = (
      await db.query<{ id: string }>(
        `INSERT INTO usage_records (user_id, account_id, service, operation, credits)
         VALUES ('t-b', ${of('user_id', 't-a')}, 'chat', 'x', 1) RETURNING id`,
      )
    ).rows[0].id;
    await expect(own.migrate(MIGRATIONS)).rejects.toThrow(/usage_records_account_user_fkey/);
    expect(await keys()).toEqual(before);
    await db.query(`DELETE FROM usage_records WHERE id = $1`, [wrong]);

    await own.migrate(MIGRATIONS);
    const after = await keys();
    // The single keys the pairs make redundant give way to the pairs; the other keys stay.
    const dropped = [
      ...['usage_records', 'streaming_sessions'].flatMap((t) => [`${t}_account_id_fkey`, `${t}_org_id_fkey`]),
      ...['subscriptions', 'purchases'].flatMap((t) => ['account', 'user', 'org'].map((c) => `${t}_${c}_id_fkey`)),
      'promotion_redemptions_account_id_fkey',
    ];
    const tie = (table: string, user: string, kind = '') => [
      `${table} ${table}_account_org_fkey FOREIGN KEY (account_id, org_id) REFERENCES accounts(account_id, org_id)`,
      `${table} ${table}_account_user_fkey FOREIGN KEY (account_id, user_id${user}) REFERENCES accounts(account_id, user_id${kind})`,
    ];
    expect(after).toEqual(
      [
        ...before.filter((k) => !dropped.includes(k.split(' ')[1])),
        ...tie('usage_records', ', payer_kind', ', kind'),
        ...tie('streaming_sessions', ', payer_kind', ', kind'),
        ...tie('subscriptions', ''),
        ...tie('purchases', ''),
        ...tie('promotion_redemptions', ''),
      ].sort(),
    );
    expect(before.filter((k) => dropped.includes(k.split(' ')[1]))).toHaveLength(dropped.length);
    // The same rows; a user's record and session pay as a user, an organisation's as none.
    expect(await rows()).toEqual(
      filled.map((row) => (/^(usage_records|streaming_sessions) t-a/.test(row) ? `${row} user` : row)),
    );

    await own.revert(MIGRATIONS.length - at);
    expect(await keys()).toEqual(before);
    const gone = await db.query(
      `SELECT count(*)::int AS n FROM information_schema.columns WHERE column_name = 'payer_kind'
       UNION ALL SELECT count(*)::int FROM pg_class WHERE relname IN ('typeorm_metadata', 'accounts_account_id_user_id_kind_key')`,
    );
    expect(gone.rows.map((r) => r.n)).toEqual([0, 0]);
    expect(await rows()).toEqual(filled);

    await own.migrate(MIGRATIONS);
    expect(await keys()).toEqual(after);
  }, 240_000);
});
