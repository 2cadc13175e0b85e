import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A subscription carries its account (`account_id`): the user's for a user's subscription, the
 * organisation's for an organisation's, written with the row by the PUT that locked that account, so
 * that the renewal job locks and grants to the id the row holds instead of resolving its owner again
 * (docs/architecture.md "How the structure is counted").
 *
 * Existing rows, live and ended, are filled by their owner's account in one statement (subscriptions
 * are one row a subscriber and change of plan); an owner without an account (rows written before
 * accounts existed) gets one first, as the accounts module would make it. No index: the job reads a
 * subscription by its id, the routes by their owner; the foreign key's check on insert is a lookup of
 * `accounts_pkey`.
 */
export class SubscriptionAccount1732003400000 implements MigrationInterface {
  name = 'SubscriptionAccount1732003400000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE subscriptions ADD COLUMN account_id bigint`);
    await q.query(`INSERT INTO accounts (kind, user_id)
      SELECT DISTINCT 'user', s.user_id FROM subscriptions s
       WHERE s.user_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM accounts a WHERE a.user_id = s.user_id)`);
    await q.query(`INSERT INTO accounts (kind, org_id)
      SELECT DISTINCT 'org', s.org_id FROM subscriptions s
       WHERE s.org_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM accounts a WHERE a.org_id = s.org_id)`);
    // Exactly one of user_id and org_id is set (subscriptions_owner_check), each unique in accounts.
    await q.query(`UPDATE subscriptions s SET account_id = CASE WHEN s.org_id IS NOT NULL
      THEN (SELECT a.account_id FROM accounts a WHERE a.org_id = s.org_id)
      ELSE (SELECT a.account_id FROM accounts a WHERE a.user_id = s.user_id) END`);
    await q.query(`ALTER TABLE subscriptions ALTER COLUMN account_id SET NOT NULL,
      ADD CONSTRAINT subscriptions_account_id_fkey FOREIGN KEY (account_id) REFERENCES accounts (account_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE subscriptions DROP COLUMN account_id`);
  }
}
