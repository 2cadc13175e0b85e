import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The account made real (issue 32): `accounts`, the money engine's key, with a surrogate id, a kind
 * (`user` now, `org` next) and its owner, so an organisation is one more account rather than a user
 * id that might equal another user's. Every existing user becomes a user account (in the order the
 * users were created), and a trigger on user_accounts gives every new user one in the same
 * transaction. The account lock (credits_lock_accounts(), next migration) locks these rows.
 */
export class Accounts1732000024300 implements MigrationInterface {
  name = 'Accounts1732000024300';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE accounts (
        account_id bigint GENERATED ALWAYS AS IDENTITY CONSTRAINT accounts_pkey PRIMARY KEY,
        kind varchar(10) NOT NULL CONSTRAINT accounts_kind_check CHECK (kind IN ('user', 'org')),
        user_id varchar(50) CONSTRAINT accounts_user_id_key UNIQUE
          CONSTRAINT accounts_user_id_fkey REFERENCES user_accounts (user_id),
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT accounts_owner_check CHECK ((kind = 'user') = (user_id IS NOT NULL))
      )`);
    await q.query(`
      INSERT INTO accounts (kind, user_id, created_at)
      SELECT 'user', u.user_id, u.created_at FROM user_accounts u ORDER BY u.created_at, u.user_id`);
    await q.query(`CREATE OR REPLACE FUNCTION public.accounts_for_user()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
  -- Every user has an account (kind user): made with the user's row, in its transaction, whoever
  -- inserts it (the token sync, a grant ahead of a login, a script).
  BEGIN
    INSERT INTO accounts (kind, user_id) VALUES ('user', NEW.user_id) ON CONFLICT (user_id) DO NOTHING;
    RETURN NULL;
  END $function$`);
    await q.query(`
      CREATE TRIGGER accounts_for_user AFTER INSERT ON user_accounts
        FOR EACH ROW EXECUTE FUNCTION accounts_for_user()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER accounts_for_user ON user_accounts`);
    await q.query(`DROP FUNCTION accounts_for_user()`);
    await q.query(`DROP TABLE accounts`);
  }
}
