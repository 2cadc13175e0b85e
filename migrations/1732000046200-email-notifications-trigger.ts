import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * An event of a kind that emails queues its emails in its own transaction (docs/notifications.md):
 * the trigger fires only for those kinds, so every other event costs nothing more.
 */
export const EMAILED_EVENT_TYPES_1732000046200 = [
  'credits.expiring',
  'balance.low',
  'balance.depleted',
  'purchase.paid',
  'purchase.refunded',
  'promotion.redeemed',
  'auto_recharge.disabled',
  'org.member_limit_reached',
];

export class EmailNotificationsTrigger1732000046200 implements MigrationInterface {
  name = 'EmailNotificationsTrigger1732000046200';

  async up(q: QueryRunner): Promise<void> {
    const types = EMAILED_EVENT_TYPES_1732000046200.map((t) => `'${t}'`).join(', ');
    await q.query(
      `CREATE TRIGGER email_notifications_queue AFTER INSERT ON events FOR EACH ROW
         WHEN (NEW.type IN (${types})) EXECUTE FUNCTION email_notifications_queue()`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER email_notifications_queue ON events`);
  }
}
