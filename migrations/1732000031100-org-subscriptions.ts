import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * An organisation subscribes to a plan as a user does (CONTRACT v4 "Organisations": PUT/DELETE
 * /api/orgs/:orgId/subscription): a subscription is now a user's (`user_id`) or an org's (`org_id`),
 * exactly one of the two, with at most one live subscription per org as per user.
 */
export class OrgSubscriptions1732000031100 implements MigrationInterface {
  name = 'OrgSubscriptions1732000031100';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE subscriptions ALTER COLUMN user_id DROP NOT NULL`);
    await q.query(`ALTER TABLE subscriptions ADD COLUMN org_id varchar(50)
      CONSTRAINT subscriptions_org_id_fkey REFERENCES orgs (org_id)`);
    await q.query(`ALTER TABLE subscriptions ADD CONSTRAINT subscriptions_owner_check
      CHECK ((user_id IS NULL) <> (org_id IS NULL))`);
    await q.query(`CREATE UNIQUE INDEX subscriptions_org_live_idx ON subscriptions (org_id) WHERE ended_at IS NULL`);
    await q.query(`CREATE INDEX subscriptions_org_ended_idx ON subscriptions (org_id, ended_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DELETE FROM subscriptions WHERE org_id IS NOT NULL`);
    await q.query(`DROP INDEX subscriptions_org_ended_idx`);
    await q.query(`DROP INDEX subscriptions_org_live_idx`);
    await q.query(`ALTER TABLE subscriptions DROP CONSTRAINT subscriptions_owner_check`);
    await q.query(`ALTER TABLE subscriptions DROP COLUMN org_id`);
    await q.query(`ALTER TABLE subscriptions ALTER COLUMN user_id SET NOT NULL`);
  }
}
