import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateApiKeys1732000004000 implements MigrationInterface {
  name = 'CreateApiKeys1732000004000';

  async up(q: QueryRunner): Promise<void> {
    // The key itself is never stored: only its SHA-256 digest (for lookup) and a display prefix.
    await q.query(`
      CREATE TABLE api_keys (
        id          uuid         PRIMARY KEY DEFAULT gen_random_uuid(),
        user_id     varchar(50)  NOT NULL REFERENCES user_accounts (user_id) ON DELETE CASCADE,
        name        varchar(100) NOT NULL,
        key_hash    bytea        NOT NULL CONSTRAINT api_keys_key_hash_length CHECK (octet_length(key_hash) = 32),
        prefix      varchar(32)  NOT NULL,
        permissions text[]       NOT NULL DEFAULT '{}',
        created_at  timestamptz  NOT NULL DEFAULT now(),
        expires_at  timestamptz,
        revoked_at  timestamptz,
        last_used   timestamptz
      )`);
    await q.query(`CREATE UNIQUE INDEX api_keys_key_hash_idx ON api_keys (key_hash)`);
    await q.query(`CREATE INDEX api_keys_user_idx ON api_keys (user_id, created_at DESC, id DESC)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE api_keys`);
  }
}
