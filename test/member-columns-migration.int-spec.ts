import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { MemberColumns1732000070000 } from '../migrations/1732000070000-member-columns.js';
import { MIGRATIONS } from '../migrations/index.js';
import { MigrationDatabase } from './support/migration-database.js';

/**
 * Migration 1732000070000 renames the ledger's and the holds' `user_id` (the member who spent; a
 * user account's: its user) to `member_id` and drops the allocations' and the settings' `user_id`
 * (the account's owner again); 1732000071000 moves the engine onto the new columns. Every line and
 * hold keeps whom it named, the engine keeps naming the member, and down puts the columns back,
 * filled from `accounts`, with their constraints.
 */
describe('the member columns migration', () => {
  let own: MigrationDatabase;
  let db: pg.Pool;
  const at = MIGRATIONS.indexOf(MemberColumns1732000070000);

  beforeAll(async () => {
    own = await MigrationDatabase.create('accounting_members');
    db = own.db;
  });
  afterAll(() => own?.close());

  const rows = async (sql: string) => (await db.query(sql)).rows;
  const columns = async () =>
    (
      await rows(
        `SELECT table_name || '.' || column_name AS c FROM information_schema.columns
          WHERE table_name IN ('credit_ledger', 'credit_holds', 'credit_allocations', 'credit_accounts')
            AND column_name IN ('user_id', 'member_id')
          ORDER BY 1`,
      )
    ).map((r: { c: string }) => r.c);
  const constraints = async () =>
    (
      await rows(
        `SELECT conname FROM pg_constraint
          WHERE conrelid::regclass::text IN ('credit_holds', 'credit_allocations', 'credit_accounts')
            AND (conname LIKE '%user_id%' OR conname LIKE '%member_id%')
          ORDER BY 1`,
      )
    ).map((r: { conname: string }) => r.conname);
  const account = async (owner: string) =>
    (
      await db.query<{ id: string }>(`SELECT account_id::text AS id FROM accounts WHERE $1 IN (user_id, org_id)`, [
        owner,
      ])
    ).rows[0].id;
  /** A strict debit of `credits` on the owner's account, `member` naming who spent (an org's). */
  const take = async (owner: string, credits: number, member: string | null) =>
    (
      await db.query<{ out_status: string }>(
        `SELECT out_status FROM credits_take_events('test', NULL, NULL, '{}', ARRAY[$1::bigint], ARRAY[$2::int],
                                                    ARRAY[NULL::uuid], ARRAY[$3::varchar])`,
        [await account(owner), credits, member],
      )
    ).rows[0].out_status;
  /** What each row names, by a key that survives the migration. */
  const named = async (column: 'user_id' | 'member_id') => ({
    ledger: await rows(
      `SELECT l.id::int, a.kind, l.${column} AS who FROM credit_ledger l JOIN accounts a USING (account_id) ORDER BY l.id`,
    ),
    holds: await rows(`SELECT session_id, ${column} AS who FROM credit_holds ORDER BY session_id`),
  });

  it('keeps whom every line and hold names, and goes down and up again', async () => {
    await own.migrate(MIGRATIONS.slice(0, at));
    await db.query(`INSERT INTO user_accounts (user_id) VALUES ('alice'), ('bob')`);
    await db.query(`INSERT INTO orgs (org_id, name, created_by) VALUES ('acme', 'Acme', 'admin')`);
    await db.query(`INSERT INTO org_members (org_id, user_id, role) VALUES ('acme', 'bob', 'member')`);
    for (const owner of ['alice', 'acme'])
      await db.query(
        `SELECT 1 FROM credits_grant($1, 100, 'admin', now() + interval '1 day', NULL, 'manual', NULL, NULL, NULL, false)`,
        [await account(owner)],
      );
    await db.query(
      `INSERT INTO credit_accounts (account_id, user_id, overdraft_limit) VALUES ($1, 'alice', 5)
       ON CONFLICT (account_id) DO NOTHING`,
      [await account('alice')],
    );
    expect(await take('alice', 3, null)).toBe('ok');
    expect(await take('acme', 4, 'bob')).toBe('ok');
    await db.query(`SELECT 1 FROM credits_hold($1, 6, 'chat-1', 'test', NULL, NULL, '{}', 'bob')`, [
      await account('acme'),
    ]);
    await db.query(`SELECT 1 FROM credits_hold($1, 2, 'chat-2', 'test', NULL, NULL, '{}')`, [await account('alice')]);
    const before = await named('user_id');
    // a user's lines name the user, an org's the member who spent (none on its grant)
    expect(before.ledger.map((l: { who: string | null }) => l.who)).toEqual([
      'alice',
      null,
      'alice',
      'bob',
      'bob',
      'alice',
    ]);
    expect(before.holds).toEqual([
      { session_id: 'chat-1', who: 'bob' },
      { session_id: 'chat-2', who: 'alice' },
    ]);

    await own.migrate(MIGRATIONS);
    expect(await columns()).toEqual(['credit_holds.member_id', 'credit_ledger.member_id']);
    expect(await constraints()).toEqual(['credit_holds_member_id_fkey']);
    expect(await named('member_id')).toEqual(before);
    // the engine names the member as it did, and a user's own lines the user
    expect(await take('acme', 1, 'bob')).toBe('ok');
    expect(await take('alice', 1, null)).toBe('ok');
    const after = await named('member_id');
    expect(after.ledger.slice(before.ledger.length).map((l: { who: string | null }) => l.who)).toEqual([
      'bob',
      'alice',
    ]);
    expect(await rows(`SELECT account_user_id(account_id) AS u FROM credit_allocations ORDER BY allocated_at`)).toEqual(
      [{ u: 'alice' }, { u: null }],
    );

    await own.revert(MIGRATIONS.length - at);
    expect(await columns()).toEqual([
      'credit_accounts.user_id',
      'credit_allocations.user_id',
      'credit_holds.user_id',
      'credit_ledger.user_id',
    ]);
    expect(await constraints()).toEqual([
      'credit_accounts_user_id_fkey',
      'credit_accounts_user_id_key',
      'credit_allocations_user_id_fkey',
      'credit_holds_user_id_fkey',
    ]);
    expect(await named('user_id')).toEqual(after);
    // filled from accounts: the user's rows name the user, the org's nobody
    expect(
      await rows(
        `SELECT a.kind, c.user_id FROM credit_allocations c JOIN accounts a USING (account_id) ORDER BY c.allocated_at`,
      ),
    ).toEqual([
      { kind: 'user', user_id: 'alice' },
      { kind: 'org', user_id: null },
    ]);
    expect(
      await rows(`SELECT a.kind, c.user_id FROM credit_accounts c JOIN accounts a USING (account_id) ORDER BY a.kind`),
    ).toEqual([{ kind: 'user', user_id: 'alice' }]);
    // the engine as it was still moves credits and names whom it did
    expect(await take('acme', 1, 'bob')).toBe('ok');
    expect((await named('user_id')).ledger.at(-1)).toMatchObject({ kind: 'org', who: 'bob' });

    await own.migrate(MIGRATIONS);
    expect(await columns()).toEqual(['credit_holds.member_id', 'credit_ledger.member_id']);
    expect(await take('alice', 1, null)).toBe('ok');
  });
});
