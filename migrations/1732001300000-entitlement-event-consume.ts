import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A kept entitlement check answer remembers the `consume` it answered, so a repeat of its eventId
 * with another amount is refused (422 EVENT_ID_REUSED) instead of answering the first body's result.
 * Answers kept before this have none (NULL) and replay for any amount, as they did, until the
 * 35-day cleanup removes them.
 */
export class EntitlementEventConsume1732001300000 implements MigrationInterface {
  name = 'EntitlementEventConsume1732001300000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE credit_cap_event_ids ADD COLUMN consume bigint`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE credit_cap_event_ids DROP COLUMN consume`);
  }
}
