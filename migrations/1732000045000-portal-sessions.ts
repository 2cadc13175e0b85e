import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Portal sessions: a token a service principal mints for one user, limited to one account (the
 * user's, or with `org_id` the org's). Only the token's SHA-256 digest is kept; `ended_at` is set by
 * `DELETE /api/portal/sessions/:id`, after which (or after `expires_at`) the token is refused.
 */
export class PortalSessions1732000045000 implements MigrationInterface {
  name = 'PortalSessions1732000045000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE portal_sessions (
        id uuid NOT NULL DEFAULT gen_random_uuid() CONSTRAINT portal_sessions_pkey PRIMARY KEY,
        token_hash bytea NOT NULL
          CONSTRAINT portal_sessions_token_hash_length CHECK (octet_length(token_hash) = 32),
        user_id varchar(50) NOT NULL
          CONSTRAINT portal_sessions_user_id_fkey REFERENCES user_accounts (user_id) ON DELETE CASCADE,
        org_id varchar(50) CONSTRAINT portal_sessions_org_id_fkey REFERENCES orgs (org_id) ON DELETE CASCADE,
        created_by varchar(50) NOT NULL,
        created_by_key_id uuid,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        ended_at timestamptz
      )`);
    await q.query(`CREATE UNIQUE INDEX portal_sessions_token_hash_idx ON portal_sessions (token_hash)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE portal_sessions`);
  }
}
