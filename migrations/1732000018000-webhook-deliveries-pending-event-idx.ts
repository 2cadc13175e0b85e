import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The pending deliveries of an event. The events retention job (docs/webhooks.md, "Retention") keeps
 * an old event while one of its deliveries is pending and checks that for every event it deletes;
 * without this index each check reads every delivery of the event from the heap. Pending deliveries
 * are few (they end within days), so the index stays small.
 */
export class WebhookDeliveriesPendingEventIdx1732000018000 implements MigrationInterface {
  name = 'WebhookDeliveriesPendingEventIdx1732000018000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `CREATE INDEX webhook_deliveries_pending_event_idx ON webhook_deliveries (event_id) WHERE status = 'pending'`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX webhook_deliveries_pending_event_idx`);
  }
}
