import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A usage record inserted without `occurred_at` happened at its `timestamp` (docs/usage.md "Late
 * usage"), not at the time of the insert: the column loses its `now()` default and a BEFORE INSERT
 * trigger fills it from `timestamp`. Its WHEN clause keeps it off the service's own inserts, which
 * always name `occurred_at`, so the metering path pays nothing for it.
 */
export class OccurredAtTrigger1732000859300 implements MigrationInterface {
  name = 'OccurredAtTrigger1732000859300';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE usage_records ALTER COLUMN occurred_at DROP DEFAULT`);
    await q.query(`CREATE TRIGGER usage_records_occurred_at BEFORE INSERT ON usage_records
      FOR EACH ROW WHEN (NEW.occurred_at IS NULL) EXECUTE FUNCTION usage_records_occurred_at()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER usage_records_occurred_at ON usage_records`);
    await q.query(`ALTER TABLE usage_records ALTER COLUMN occurred_at SET DEFAULT now()`);
  }
}
