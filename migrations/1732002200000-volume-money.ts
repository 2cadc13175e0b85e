import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The money of a volume period (docs/pricing.md "Volume steps", docs/finance.md): what the period's
 * charges on a `volume` rule took of valued lots' money, net of what its give-backs returned, in the
 * currency of the first valued lot that paid (`credit_volume_totals.value_minor`, `currency`), so a
 * give-back carries its value share of it.
 */
export class VolumeMoney1732002200000 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE credit_volume_totals ADD COLUMN value_minor bigint NOT NULL DEFAULT '0',
                     ADD COLUMN currency varchar(3)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE credit_volume_totals DROP COLUMN value_minor, DROP COLUMN currency`);
  }
}
