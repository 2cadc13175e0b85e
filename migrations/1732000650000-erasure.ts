import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Erasure of a person (docs/erasure.md): `user_accounts.erased_at` marks an account whose email and
 * username were removed. The account sync never writes them back, and the instances keep the erased
 * ids in memory (src/accounts/accounts.service.ts), read at start and announced by NOTIFY.
 */
export class ErasedAccounts1732000650000 implements MigrationInterface {
  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE user_accounts ADD COLUMN erased_at timestamptz`);
    await queryRunner.query(
      `CREATE INDEX user_accounts_erased_idx ON user_accounts (erased_at) WHERE erased_at IS NOT NULL`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX user_accounts_erased_idx`);
    await queryRunner.query(`ALTER TABLE user_accounts DROP COLUMN erased_at`);
  }
}
