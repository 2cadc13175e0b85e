import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateUserAccounts1732000000000 implements MigrationInterface {
  name = 'CreateUserAccounts1732000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE user_accounts (
        user_id    varchar(50)  PRIMARY KEY,
        email      varchar(255),
        username   varchar(255),
        role       varchar(20)  NOT NULL DEFAULT 'user'
                   CONSTRAINT user_accounts_role_check CHECK (role IN ('user', 'supervisor', 'admin')),
        created_at timestamptz  NOT NULL DEFAULT now(),
        updated_at timestamptz  NOT NULL DEFAULT now()
      )`);
    // Emails are not unique here: the authentication service owns identity, and an email that moves
    // between accounts must never lock anyone out of their credits.
    await q.query(`CREATE INDEX user_accounts_email_idx ON user_accounts (lower(email))`);
    await q.query(`CREATE INDEX user_accounts_created_idx ON user_accounts (created_at, user_id)`);
    await q.query(`
      INSERT INTO user_accounts (user_id, email, username, role)
      VALUES ('system', NULL, 'system', 'admin')`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE user_accounts`);
  }
}
