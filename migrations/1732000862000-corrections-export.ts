import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Corrections become an exported dataset (docs/exports.md): `usage_corrections` gets `created_xid`,
 * the transaction that inserted the row, as the other exported tables have since migration
 * 1732000600000, with the same BRIN index. Corrections written before this migration have none and
 * belong to the dataset's first export.
 */
export class CorrectionsExport1732000862000 implements MigrationInterface {
  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE usage_corrections ADD COLUMN created_xid bigint`);
    await queryRunner.query(`ALTER TABLE usage_corrections ALTER COLUMN created_xid SET DEFAULT txid_current()`);
    await queryRunner.query(
      `CREATE INDEX usage_corrections_created_xid_brin ON usage_corrections USING brin (created_xid)`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE usage_corrections DROP COLUMN created_xid`);
  }
}
