import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `credits.expiring` is sent once per allocation with credits left, CREDITS_EXPIRING_NOTICE_HOURS
 * before it expires: `expiring_notified` remembers it was considered. The notice job's index is
 * partial on that flag and keyed on `expires_at`, columns the hot path never changes, so debits stay
 * HOT updates (see 1732000006000).
 */
export class AllocationExpiringNotice1732000010500 implements MigrationInterface {
  name = 'AllocationExpiringNotice1732000010500';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE credit_allocations ADD COLUMN expiring_notified boolean NOT NULL DEFAULT false`);
    // Allocations already expired need no notice.
    await q.query(`UPDATE credit_allocations SET expiring_notified = true WHERE expires_at <= now()`);
    await q.query(
      `CREATE INDEX credit_allocations_expiring_idx ON credit_allocations (expires_at) WHERE NOT expiring_notified`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX credit_allocations_expiring_idx`);
    await q.query(`ALTER TABLE credit_allocations DROP COLUMN expiring_notified`);
  }
}
