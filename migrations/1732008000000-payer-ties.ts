import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The tables whose rows are their owner's (exactly one of `user_id` and `org_id`, the payer), each with
 * the columns whose single foreign keys the pairs make redundant, and the table those reference.
 */
const OWNED: Record<string, Record<string, string>> = {
  subscriptions: { account_id: 'accounts', user_id: 'user_accounts', org_id: 'orgs' },
  purchases: { account_id: 'accounts', user_id: 'user_accounts', org_id: 'orgs' },
  promotion_redemptions: { account_id: 'accounts' },
};

/** The tables whose organisation's rows name the member who spent in `user_id`. */
const SPENT = ['usage_records', 'streaming_sessions'] as const;

/** A spent row's payer kind: `'user'` where its user pays (no organisation), else null. */
const PAYER_KIND = `CASE WHEN org_id IS NULL THEN 'user' END`;

/**
 * Every money row's paying account (`account_id`) is tied to its owner columns by foreign keys on the
 * pair, as an account price's is (migration 1732007600000), so no row is charged to one account and
 * listed under another's owner:
 *
 * - a subscription, a purchase and a promotion redemption are their owner's, exactly one of
 *   `user_id` and `org_id` (their `*_owner_check`): `(account_id, user_id)` and `(account_id, org_id)`
 *   reference the account's own pair (`accounts_account_id_user_id_key`, `…_org_id_key`); the key
 *   whose owner column is null is not checked (MATCH SIMPLE), so the set one is.
 * - a usage record and a streaming session of an organisation name in `user_id` the member who spent,
 *   not the owner, so the pair `(account_id, user_id)` holds only where the user pays. A stored column
 *   says so, `payer_kind` (`'user'` where `org_id` is null, else null, generated: no writer sets it),
 *   and `(account_id, user_id, payer_kind)` references `accounts (account_id, user_id, kind)`: a user's
 *   row is charged to that user's own account, and an organisation's row skips the key (its
 *   `payer_kind` is null) and is held by `(account_id, org_id)`. `payer_kind` is narrower than a copy
 *   of `user_id` would be (5 bytes on a user's row, none on an organisation's).
 *
 * The composite keys replace the single keys they make redundant: `account_id` → accounts (one of the
 * pairs is always set), `org_id` → orgs and, on the owned tables, `user_id` → user_accounts
 * (`accounts.org_id` and `accounts.user_id` reference those). A usage record's and a session's
 * `user_id` → user_accounts stays (the member of an organisation's row has no other key). So an insert
 * looks up no more keys than before: a user's record two (its user, its account by the pair) as
 * before, an organisation's two instead of three (its member, its account by the pair; the org's own
 * row was the third).
 *
 * Adding `payer_kind` rewrites `usage_records` and `streaming_sessions` under their exclusive lock (a
 * stored generated column; about 1.4 s for 100,000 records with their nine indexes); checking the new
 * keys over the rows is a tenth of that, so `NOT VALID` then `VALIDATE` would shorten nothing in the
 * same transaction. A row whose account is not its payer's fails the migration with the key's name and
 * the row's values: the ledger charged that account, so the row is for a person to look at, not to
 * rewrite here.
 *
 * TypeORM reads a generated column's expression from its own table, `typeorm_metadata` (keyed by the
 * database's name), when it compares the entities with the schema; the migration writes the two rows
 * it would write (the text as the entities declare it).
 */
export class PayerTies1732008000000 implements MigrationInterface {
  name = 'PayerTies1732008000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `ALTER TABLE accounts ADD CONSTRAINT accounts_account_id_user_id_kind_key UNIQUE (account_id, user_id, kind)`,
    );
    for (const [table, singles] of Object.entries(OWNED)) {
      await q.query(`ALTER TABLE ${table}
        ADD CONSTRAINT ${table}_account_user_fkey FOREIGN KEY (account_id, user_id) REFERENCES accounts (account_id, user_id),
        ADD CONSTRAINT ${table}_account_org_fkey FOREIGN KEY (account_id, org_id) REFERENCES accounts (account_id, org_id),
        ${Object.keys(singles)
          .map((column) => `DROP CONSTRAINT ${table}_${column}_fkey`)
          .join(',\n        ')}`);
    }
    await q.query(`CREATE TABLE IF NOT EXISTS typeorm_metadata ("type" character varying NOT NULL,
      "database" character varying, "schema" character varying, "table" character varying,
      "name" character varying, "value" text)`);
    for (const table of SPENT) {
      await q.query(`ALTER TABLE ${table}
        ADD COLUMN payer_kind varchar(10) GENERATED ALWAYS AS (${PAYER_KIND}) STORED`);
      await q.query(`ALTER TABLE ${table}
        ADD CONSTRAINT ${table}_account_user_fkey FOREIGN KEY (account_id, user_id, payer_kind)
          REFERENCES accounts (account_id, user_id, kind),
        ADD CONSTRAINT ${table}_account_org_fkey FOREIGN KEY (account_id, org_id) REFERENCES accounts (account_id, org_id),
        DROP CONSTRAINT ${table}_account_id_fkey,
        DROP CONSTRAINT ${table}_org_id_fkey`);
      await q.query(
        `INSERT INTO typeorm_metadata ("type", "database", "schema", "table", "name", "value")
         VALUES ('GENERATED_COLUMN', current_database(), current_schema(), $1, 'payer_kind', $2)`,
        [table, PAYER_KIND],
      );
    }
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of [...SPENT].reverse()) {
      await q.query(`ALTER TABLE ${table}
        ADD CONSTRAINT ${table}_account_id_fkey FOREIGN KEY (account_id) REFERENCES accounts (account_id),
        ADD CONSTRAINT ${table}_org_id_fkey FOREIGN KEY (org_id) REFERENCES orgs (org_id),
        DROP CONSTRAINT ${table}_account_user_fkey,
        DROP CONSTRAINT ${table}_account_org_fkey,
        DROP COLUMN payer_kind`);
      await q.query(
        `DELETE FROM typeorm_metadata WHERE "type" = 'GENERATED_COLUMN' AND "table" = $1 AND "name" = 'payer_kind'`,
        [table],
      );
    }
    await q.query(`DO $$ BEGIN
      IF NOT EXISTS (SELECT 1 FROM typeorm_metadata) THEN DROP TABLE typeorm_metadata; END IF; END $$`);
    for (const [table, singles] of Object.entries(OWNED).reverse()) {
      await q.query(`ALTER TABLE ${table}
        ${Object.entries(singles)
          .map(
            ([column, target]) =>
              `ADD CONSTRAINT ${table}_${column}_fkey FOREIGN KEY (${column}) REFERENCES ${target} (${column})`,
          )
          .join(',\n        ')},
        DROP CONSTRAINT ${table}_account_user_fkey,
        DROP CONSTRAINT ${table}_account_org_fkey`);
    }
    await q.query(`ALTER TABLE accounts DROP CONSTRAINT accounts_account_id_user_id_kind_key`);
  }
}
