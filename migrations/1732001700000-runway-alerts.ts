import type { MigrationInterface, QueryRunner } from 'typeorm';

import { EMAILED_EVENT_TYPES_1732000046200 } from './1732000046200-email-notifications-trigger.js';

/** The event types that email before this migration (1732000860000 added `feature.limit_reached`). */
const EMAILED_BEFORE = [...EMAILED_EVENT_TYPES_1732000046200, 'feature.limit_reached'];

/**
 * Runway alerts: `runway_alerts` keys each `credits.runway` alert by account, threshold and run-out
 * day, so it is given once however many instances run the job; and `credits.runway` emails.
 */
export class RunwayAlerts1732001700000 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE runway_alerts (
        account_id  bigint      NOT NULL,
        days        integer     NOT NULL,
        runs_out_on date        NOT NULL,
        created_at  timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT runway_alerts_pkey PRIMARY KEY (account_id, days, runs_out_on),
        CONSTRAINT runway_alerts_account_id_fkey FOREIGN KEY (account_id) REFERENCES accounts (account_id),
        CONSTRAINT runway_alerts_days_check CHECK (days >= 1))`);
    await setEmailedTypes(q, [...EMAILED_BEFORE, 'credits.runway']);
  }

  async down(q: QueryRunner): Promise<void> {
    await setEmailedTypes(q, EMAILED_BEFORE);
    await q.query(`DROP TABLE runway_alerts`);
  }
}

async function setEmailedTypes(q: QueryRunner, types: string[]): Promise<void> {
  await q.query(`DROP TRIGGER email_notifications_queue ON events`);
  await q.query(
    `CREATE TRIGGER email_notifications_queue AFTER INSERT ON events FOR EACH ROW
       WHEN (NEW.type IN (${types.map((t) => `'${t}'`).join(', ')})) EXECUTE FUNCTION email_notifications_queue()`,
  );
}
