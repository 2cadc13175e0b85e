import type { MigrationInterface, QueryRunner } from 'typeorm';

import { EMAILED_EVENT_TYPES_1732000046200 } from './1732000046200-email-notifications-trigger.js';

/** The event types that email before this migration (`feature.limit_reached`, then `credits.runway`, added since). */
const EMAILED_BEFORE = [...EMAILED_EVENT_TYPES_1732000046200, 'feature.limit_reached', 'credits.runway'];

/** `budget.reached` emails too: the trigger that queues emails fires for it. */
export class BudgetReachedEmail1732001820000 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await setEmailedTypes(q, [...EMAILED_BEFORE, 'budget.reached']);
  }

  async down(q: QueryRunner): Promise<void> {
    await setEmailedTypes(q, EMAILED_BEFORE);
  }
}

async function setEmailedTypes(q: QueryRunner, types: string[]): Promise<void> {
  await q.query(`DROP TRIGGER email_notifications_queue ON events`);
  await q.query(
    `CREATE TRIGGER email_notifications_queue AFTER INSERT ON events FOR EACH ROW
       WHEN (NEW.type IN (${types.map((t) => `'${t}'`).join(', ')})) EXECUTE FUNCTION email_notifications_queue()`,
  );
}
