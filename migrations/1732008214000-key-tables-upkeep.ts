import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The two tables of keys every exactly-once record writes a row to, `idempotency_keys` and
 * `usage_event_ids`, kept as what they are: rows inserted, found again only by their key (the primary
 * key's index) and deleted by age (`created_at`'s index). Each is analyzed for `created_at` alone,
 * from a sample of 3,000 rows (statistics target 10; the other columns 0, which no plan reads): an
 * `ANALYZE` of 60,000 stored answers read 30,000 of them and took 250 ms. `idempotency_keys` is not
 * vacuumed for the rows inserted (`autovacuum_vacuum_insert_threshold = -1`): a key's lookup reads its
 * row anyway, so the visibility map saves it nothing, and its rows are deleted after a day; the vacuum
 * after each deletion by age still runs, by dead rows. `usage_event_ids` keeps its rows 35 days, so its
 * inserts still bring a vacuum, to freeze them a little at a time. Both the server's autovacuum and
 * the service's table upkeep read these parameters (docs/operations.md "Table upkeep").
 */
export class KeyTablesUpkeep1732008214000 implements MigrationInterface {
  name = 'KeyTablesUpkeep1732008214000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE idempotency_keys SET (autovacuum_vacuum_insert_threshold = -1),
                     ALTER COLUMN principal SET STATISTICS 0,
                     ALTER COLUMN key SET STATISTICS 0,
                     ALTER COLUMN fingerprint SET STATISTICS 0,
                     ALTER COLUMN method SET STATISTICS 0,
                     ALTER COLUMN path SET STATISTICS 0,
                     ALTER COLUMN status_code SET STATISTICS 0,
                     ALTER COLUMN response_body SET STATISTICS 0,
                     ALTER COLUMN created_at SET STATISTICS 10`);
    await q.query(`ALTER TABLE usage_event_ids ALTER COLUMN owner SET STATISTICS 0,
                     ALTER COLUMN event_id SET STATISTICS 0,
                     ALTER COLUMN usage_record_id SET STATISTICS 0,
                     ALTER COLUMN created_at SET STATISTICS 10`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE usage_event_ids ALTER COLUMN owner SET STATISTICS -1,
                     ALTER COLUMN event_id SET STATISTICS -1,
                     ALTER COLUMN usage_record_id SET STATISTICS -1,
                     ALTER COLUMN created_at SET STATISTICS -1`);
    await q.query(`ALTER TABLE idempotency_keys RESET (autovacuum_vacuum_insert_threshold),
                     ALTER COLUMN principal SET STATISTICS -1,
                     ALTER COLUMN key SET STATISTICS -1,
                     ALTER COLUMN fingerprint SET STATISTICS -1,
                     ALTER COLUMN method SET STATISTICS -1,
                     ALTER COLUMN path SET STATISTICS -1,
                     ALTER COLUMN status_code SET STATISTICS -1,
                     ALTER COLUMN response_body SET STATISTICS -1,
                     ALTER COLUMN created_at SET STATISTICS -1`);
  }
}
