import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * An account price names the account it prices (`account_id`), as every money row does: pricing's
 * cache and lookups key account prices by the account id the edge resolved, never by an owner.
 *
 * The owner columns stay (the API answers and lists a price by its `userId` or `orgId`, and an
 * erasure finds a person's prices by `user_id`), tied to the account by two foreign keys on the pair:
 * `(account_id, user_id)` and `(account_id, org_id)` must be an account's own pair (a key whose owner
 * column is null is not checked, so the one set, `account_prices_owner_check`, is). The pairs need a
 * unique key on `accounts`; each is the primary key with its owner, so it holds already.
 *
 * Existing rows are filled by their owner's account, which every user and organisation has (the
 * accounts module's triggers make it with the owner). `account_prices_account_idx` serves the
 * lookups by account: a price's change locks and closes the account's open price of a pattern, and
 * the list reads an account's prices.
 */
export class AccountPricesAccount1732007600000 implements MigrationInterface {
  name = 'AccountPricesAccount1732007600000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE accounts
      ADD CONSTRAINT accounts_account_id_user_id_key UNIQUE (account_id, user_id),
      ADD CONSTRAINT accounts_account_id_org_id_key UNIQUE (account_id, org_id)`);
    await q.query(`ALTER TABLE account_prices ADD COLUMN account_id bigint`);
    // Exactly one of user_id and org_id is set (account_prices_owner_check), each unique in accounts.
    await q.query(`UPDATE account_prices p SET account_id = CASE WHEN p.org_id IS NOT NULL
      THEN (SELECT a.account_id FROM accounts a WHERE a.org_id = p.org_id)
      ELSE (SELECT a.account_id FROM accounts a WHERE a.user_id = p.user_id) END`);
    await q.query(`ALTER TABLE account_prices ALTER COLUMN account_id SET NOT NULL,
      ADD CONSTRAINT account_prices_account_id_fkey FOREIGN KEY (account_id) REFERENCES accounts (account_id),
      ADD CONSTRAINT account_prices_account_user_fkey FOREIGN KEY (account_id, user_id)
        REFERENCES accounts (account_id, user_id),
      ADD CONSTRAINT account_prices_account_org_fkey FOREIGN KEY (account_id, org_id)
        REFERENCES accounts (account_id, org_id)`);
    await q.query(`CREATE INDEX account_prices_account_idx ON account_prices (account_id, model_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE account_prices DROP COLUMN account_id`);
    await q.query(`ALTER TABLE accounts DROP CONSTRAINT accounts_account_id_user_id_key,
      DROP CONSTRAINT accounts_account_id_org_id_key`);
  }
}
