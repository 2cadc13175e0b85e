import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * usage_records_review_idx ("timestamp" of records needing review) served no read: the review queue
 * reads usage_records_review_queue_idx (review_status, "timestamp" DESC, id DESC), and nothing filters
 * by billing_status. Every statement that writes usage_records opened it and tested its predicate.
 */
export class UsageRecordsReviewIdxDropped1732002610000 implements MigrationInterface {
  name = 'UsageRecordsReviewIdxDropped1732002610000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX usage_records_review_idx`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(
      `CREATE INDEX usage_records_review_idx ON usage_records ("timestamp") WHERE billing_status = 'needs_review'`,
    );
  }
}
