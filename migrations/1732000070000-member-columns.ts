import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Issue 42's one account id, in the columns: a ledger line's and a hold's `user_id` meant the member
 * who spent (a user account's: its user), so they are `member_id`; an allocation's and the account
 * settings' `user_id` repeated the owner of their `account_id` (null for an organisation's), so they
 * go. Down puts them back, filled from `accounts`, with their constraints.
 */
export class MemberColumns1732000070000 implements MigrationInterface {
  name = 'MemberColumns1732000070000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE credit_ledger RENAME COLUMN user_id TO member_id`);
    await q.query(`ALTER TABLE credit_holds RENAME COLUMN user_id TO member_id`);
    await q.query(
      `ALTER TABLE credit_holds RENAME CONSTRAINT credit_holds_user_id_fkey TO credit_holds_member_id_fkey`,
    );
    await q.query(`ALTER TABLE credit_allocations DROP COLUMN user_id`);
    await q.query(`ALTER TABLE credit_accounts DROP COLUMN user_id`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE credit_accounts
        ADD COLUMN user_id varchar(50) CONSTRAINT credit_accounts_user_id_fkey REFERENCES user_accounts (user_id),
        ADD CONSTRAINT credit_accounts_user_id_key UNIQUE (user_id)`);
    await q.query(`
      UPDATE credit_accounts c SET user_id = a.user_id
        FROM accounts a WHERE a.account_id = c.account_id AND a.user_id IS NOT NULL`);
    await q.query(`
      ALTER TABLE credit_allocations
        ADD COLUMN user_id varchar(50) CONSTRAINT credit_allocations_user_id_fkey REFERENCES user_accounts (user_id)`);
    await q.query(`
      UPDATE credit_allocations c SET user_id = a.user_id
        FROM accounts a WHERE a.account_id = c.account_id AND a.user_id IS NOT NULL`);
    await q.query(
      `ALTER TABLE credit_holds RENAME CONSTRAINT credit_holds_member_id_fkey TO credit_holds_user_id_fkey`,
    );
    await q.query(`ALTER TABLE credit_holds RENAME COLUMN member_id TO user_id`);
    await q.query(`ALTER TABLE credit_ledger RENAME COLUMN member_id TO user_id`);
  }
}
