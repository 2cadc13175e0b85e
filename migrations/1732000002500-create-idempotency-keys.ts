import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateIdempotencyKeys1732000002500 implements MigrationInterface {
  name = 'CreateIdempotencyKeys1732000002500';

  async up(q: QueryRunner): Promise<void> {
    // One stored successful response per caller and key; written in the same transaction as the
    // request's effect. Kept at least 24 h, then deleted by the hourly cleanup job.
    await q.query(`
      CREATE TABLE idempotency_keys (
        principal     varchar(100) NOT NULL,
        key           varchar(255) NOT NULL,
        fingerprint   char(64)     NOT NULL,
        method        varchar(10)  NOT NULL,
        path          varchar(500) NOT NULL,
        status_code   smallint     NOT NULL,
        response_body jsonb,
        created_at    timestamptz  NOT NULL DEFAULT now(),
        PRIMARY KEY (principal, key)
      )`);
    await q.query(`CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE idempotency_keys`);
  }
}
