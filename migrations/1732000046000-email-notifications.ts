import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Email notifications (docs/notifications.md): the emails made from events, one per event and
 * recipient, and each user's choice of which kinds to receive; and the bookkeeping of expiry notices
 * at several lead times (`expiring_notice_hours`: the shortest lead time already considered).
 */
export class EmailNotifications1732000046000 implements MigrationInterface {
  name = 'EmailNotifications1732000046000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE email_notifications (
      id uuid NOT NULL DEFAULT uuid_v7(),
      event_id uuid NOT NULL,
      user_id varchar(50) NOT NULL,
      kind varchar(50) NOT NULL,
      status varchar(10) NOT NULL DEFAULT 'pending',
      to_address varchar(255),
      subject text,
      text_body text,
      html_body text,
      attempts integer NOT NULL DEFAULT 0,
      next_attempt_at timestamptz DEFAULT now(),
      last_error text,
      created_at timestamptz NOT NULL DEFAULT now(),
      sent_at timestamptz,
      CONSTRAINT email_notifications_pkey PRIMARY KEY (id),
      CONSTRAINT email_notifications_event_user_key UNIQUE (event_id, user_id),
      CONSTRAINT email_notifications_status_check
        CHECK (status IN ('pending', 'sent', 'failed', 'suppressed', 'kept')),
      CONSTRAINT email_notifications_event_id_fkey FOREIGN KEY (event_id) REFERENCES events (id) ON DELETE CASCADE,
      CONSTRAINT email_notifications_user_id_fkey FOREIGN KEY (user_id) REFERENCES user_accounts (user_id)
    )`);
    await q.query(
      `CREATE INDEX email_notifications_due_idx ON email_notifications (next_attempt_at) WHERE status = 'pending'`,
    );
    await q.query(`CREATE INDEX email_notifications_time_idx ON email_notifications (created_at, id)`);
    await q.query(`CREATE INDEX email_notifications_user_time_idx ON email_notifications (user_id, created_at, id)`);
    await q.query(`CREATE TABLE notification_preferences (
      user_id varchar(50) NOT NULL,
      kind varchar(50) NOT NULL,
      email boolean NOT NULL,
      updated_at timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT notification_preferences_pkey PRIMARY KEY (user_id, kind),
      CONSTRAINT notification_preferences_user_id_fkey FOREIGN KEY (user_id) REFERENCES user_accounts (user_id)
    )`);
    // Null: no lead time considered yet. Allocations notified before (expiring_notified) stay done.
    await q.query(`ALTER TABLE credit_allocations ADD COLUMN expiring_notice_hours integer`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE credit_allocations DROP COLUMN expiring_notice_hours`);
    await q.query(`DROP TABLE notification_preferences`);
    await q.query(`DROP TABLE email_notifications`);
  }
}
