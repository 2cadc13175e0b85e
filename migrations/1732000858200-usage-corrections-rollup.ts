import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Corrections count in the daily rollups: usage_rollup_correction() on every insert into usage_corrections. */
export class UsageCorrectionsRollup1732000858200 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TRIGGER usage_corrections_rollup AFTER INSERT ON usage_corrections
      REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION usage_rollup_correction()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER usage_corrections_rollup ON usage_corrections`);
  }
}
