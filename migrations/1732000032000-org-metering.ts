import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Paying from an organisation (CONTRACT "Organisations": "Limits stack, atomically", "API keys of a
 * membership").
 * - `org_members.limit_reached_period`: `org.member_limit_reached` is sent once per member and period,
 *   when a charge first takes the member's spend in the period to their limit; the column keeps the
 *   start (a UTC day) of the period it was last sent for, so a give-back under the limit and a charge
 *   reaching it again in the same period send no second one.
 * - `api_keys.org_id`: a key of a membership charges that organisation on behalf of its creator; the
 *   foreign key to the membership `(org_id, user_id)` says its creator was a member (a removed
 *   member's row stays, and their keys stop working: the key lookup asks for an active membership).
 */
export class OrgMetering1732000032000 implements MigrationInterface {
  name = 'OrgMetering1732000032000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE org_members ADD COLUMN limit_reached_period date`);
    await q.query(`ALTER TABLE api_keys ADD COLUMN org_id varchar(50)`);
    await q.query(`ALTER TABLE api_keys ADD CONSTRAINT api_keys_org_member_fkey
      FOREIGN KEY (org_id, user_id) REFERENCES org_members (org_id, user_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE api_keys DROP CONSTRAINT api_keys_org_member_fkey`);
    await q.query(`ALTER TABLE api_keys DROP COLUMN org_id`);
    await q.query(`ALTER TABLE org_members DROP COLUMN limit_reached_period`);
  }
}
