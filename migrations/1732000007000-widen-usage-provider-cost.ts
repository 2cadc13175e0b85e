import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A usage record's provider cost must hold the largest value the API can produce: two token counts
 * of at most 2,147,483,647 each at the largest price NUMERIC(10,4) holds (999,999.9999 per 1k) cost
 * about 4.3 × 10^12, beyond NUMERIC(20,8)'s 10^12 (a finalize with 2,147,483,646 input tokens failed
 * with "numeric field overflow", a 500). NUMERIC(24,8) holds 10^16. Raising the precision of a numeric
 * at the same scale needs no table rewrite in PostgreSQL.
 */
export class WidenUsageProviderCost1732000007000 implements MigrationInterface {
  name = 'WidenUsageProviderCost1732000007000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE usage_records ALTER COLUMN provider_cost TYPE numeric(24,8)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE usage_records ALTER COLUMN provider_cost TYPE numeric(20,8)`);
  }
}
