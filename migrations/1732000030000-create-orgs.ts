import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Organisations (CONTRACT "Organisations: shared pools, member limits"): an organisation is one more
 * account of the engine. `orgs` holds its name; a trigger opens its account (kind `org`) in the same
 * transaction, as user_accounts does for users, and `accounts.org_id` now references it.
 * `org_members` holds memberships and roles (stored here, not in the JWT) and each member's spend
 * limit: a counter over the org's pool, never a second wallet (STYLE "One pool, many caps").
 * A removed member keeps the row (`removed_at`), so records and ledger entries keep naming them.
 */
export class CreateOrgs1732000030000 implements MigrationInterface {
  name = 'CreateOrgs1732000030000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE orgs (
        org_id varchar(50) CONSTRAINT orgs_pkey PRIMARY KEY,
        name varchar(100) NOT NULL,
        created_by varchar(50) NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    // Accounts of kind org opened before this table (none in a real deployment): their orgs exist.
    await q.query(`
      INSERT INTO orgs (org_id, name, created_by)
      SELECT a.org_id, a.org_id, 'migration' FROM accounts a WHERE a.org_id IS NOT NULL`);
    await q.query(
      `ALTER TABLE accounts ADD CONSTRAINT accounts_org_id_fkey FOREIGN KEY (org_id) REFERENCES orgs (org_id)`,
    );
    await q.query(`CREATE OR REPLACE FUNCTION public.accounts_for_org()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
  -- Every organisation has an account (kind org): opened with the org's row, in its transaction.
  BEGIN
    INSERT INTO accounts (kind, org_id) VALUES ('org', NEW.org_id) ON CONFLICT (org_id) DO NOTHING;
    RETURN NULL;
  END $function$`);
    await q.query(`
      CREATE TRIGGER accounts_for_org AFTER INSERT ON orgs
        FOR EACH ROW EXECUTE FUNCTION accounts_for_org()`);
    await q.query(`
      CREATE TABLE org_members (
        org_id varchar(50) NOT NULL CONSTRAINT org_members_org_id_fkey REFERENCES orgs (org_id),
        user_id varchar(50) NOT NULL CONSTRAINT org_members_user_id_fkey REFERENCES user_accounts (user_id),
        role varchar(10) NOT NULL
          CONSTRAINT org_members_role_check CHECK (role IN ('owner', 'admin', 'billing', 'member')),
        spend_limit bigint CONSTRAINT org_members_spend_limit_check CHECK (spend_limit >= 0),
        spend_limit_period varchar(5)
          CONSTRAINT org_members_spend_limit_period_check CHECK (spend_limit_period IN ('day', 'week', 'month')),
        joined_at timestamptz NOT NULL DEFAULT now(),
        removed_at timestamptz,
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT org_members_pkey PRIMARY KEY (org_id, user_id),
        CONSTRAINT org_members_spend_limit_pair_check CHECK ((spend_limit IS NULL) = (spend_limit_period IS NULL))
      )`);
    // A user's active memberships (GET /api/orgs/mine, the member check of every org charge).
    await q.query(`CREATE INDEX org_members_user_active_idx ON org_members (user_id) WHERE removed_at IS NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE org_members`);
    await q.query(`DROP TRIGGER accounts_for_org ON orgs`);
    await q.query(`DROP FUNCTION accounts_for_org()`);
    await q.query(`ALTER TABLE accounts DROP CONSTRAINT accounts_org_id_fkey`);
    await q.query(`DROP TABLE orgs`);
  }
}
