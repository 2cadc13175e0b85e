import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The tables that gain the paying account's id, each with its foreign key's name. */
const TABLES = ['usage_records', 'streaming_sessions'] as const;

/** The account that paid a row `t`: its organisation's, else its user's (each by its own unique key). */
const PAYER = (t: string): string => `CASE WHEN ${t}.org_id IS NOT NULL
  THEN (SELECT a.account_id FROM accounts a WHERE a.org_id = ${t}.org_id)
  ELSE (SELECT a.account_id FROM accounts a WHERE a.user_id = ${t}.user_id) END`;

/**
 * The paying account travels with the write: a usage record and a streaming session carry the id of
 * the account that paid (`account_id`, the organisation's for an organisation's use, else the
 * user's), resolved once at the edge, so that a correction, a re-rate, a settlement and the lists read
 * it instead of resolving the owner again (docs/architecture.md "How the structure is counted").
 *
 * Existing rows are filled by their owner's account, 10,000 rows a statement (each batch an index
 * range of the primary key, so no statement holds the whole table's new versions at once); an owner
 * without an account (rows written before accounts existed) gets one first, as the accounts module
 * would make it. No index: no read looks rows up by it (a re-rate's lanes filter the rows a range
 * read already found); the foreign key's check on insert is a lookup of `accounts_pkey`.
 */
export class AccountCarried1732002400000 implements MigrationInterface {
  name = 'AccountCarried1732002400000';

  async up(q: QueryRunner): Promise<void> {
    for (const table of TABLES) {
      await q.query(`ALTER TABLE ${table} ADD COLUMN account_id bigint`);
      await q.query(`INSERT INTO accounts (kind, user_id)
        SELECT DISTINCT 'user', t.user_id FROM ${table} t
         WHERE t.org_id IS NULL AND NOT EXISTS (SELECT 1 FROM accounts a WHERE a.user_id = t.user_id)`);
      await q.query(`INSERT INTO accounts (kind, org_id)
        SELECT DISTINCT 'org', t.org_id FROM ${table} t
         WHERE t.org_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM accounts a WHERE a.org_id = t.org_id)`);
    }
    await q.query(`DO $$
      DECLARE
        v_last uuid := '00000000-0000-0000-0000-000000000000';
        v_next uuid;
      BEGIN
        LOOP
          -- the batch's last id (null: the rest is the last batch)
          SELECT r.id INTO v_next FROM usage_records r WHERE r.id > v_last ORDER BY r.id OFFSET 9999 LIMIT 1;
          UPDATE usage_records r SET account_id = ${PAYER('r')}
           WHERE r.id > v_last AND (v_next IS NULL OR r.id <= v_next);
          EXIT WHEN v_next IS NULL;
          v_last := v_next;
        END LOOP;
      END $$`);
    // Sessions are few (the live ones and those settled lately): one statement.
    await q.query(`UPDATE streaming_sessions s SET account_id = ${PAYER('s')}`);
    for (const table of TABLES) {
      await q.query(`ALTER TABLE ${table} ALTER COLUMN account_id SET NOT NULL,
        ADD CONSTRAINT ${table}_account_id_fkey FOREIGN KEY (account_id) REFERENCES accounts (account_id)`);
    }
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of [...TABLES].reverse()) await q.query(`ALTER TABLE ${table} DROP COLUMN account_id`);
  }
}
