import { Check, Column, Entity, ForeignKey, Index, PrimaryColumn, Unique } from 'typeorm';

import { UserAccount } from '../../accounts/entities/user-account.entity.js';
import { TimestampColumn } from '../../database/timestamp-column.js';
import { EventRecord } from '../../events/entities/event.entity.js';

export const EMAIL_STATUSES = ['pending', 'sent', 'failed', 'suppressed', 'kept'] as const;
/** pending: to be made or sent; sent; failed (3 days of attempts); suppressed (the user turned the kind off); kept (no SMTP_URL). */
export type EmailStatus = (typeof EMAIL_STATUSES)[number];

/**
 * One email: an event's, to one recipient (migration 1732000046000). Queued by the trigger
 * `email_notifications_queue()` in the event's transaction; made (address, subject, parts) and sent
 * by the email worker after commit. Deleted with its event (EVENT_RETENTION_DAYS).
 */
@Entity({ name: 'email_notifications' })
@Unique('email_notifications_event_user_key', ['eventId', 'userId'])
@Check('email_notifications_status_check', `status IN ('pending', 'sent', 'failed', 'suppressed', 'kept')`)
@Index('email_notifications_due_idx', ['nextAttemptAt'], { where: `status = 'pending'` })
@Index('email_notifications_time_idx', ['createdAt', 'id'])
@Index('email_notifications_user_time_idx', ['userId', 'createdAt', 'id'])
export class EmailNotification {
  @PrimaryColumn({ type: 'uuid', default: () => 'uuid_v7()', primaryKeyConstraintName: 'email_notifications_pkey' })
  id: string;

  @ForeignKey(() => EventRecord, { name: 'email_notifications_event_id_fkey', onDelete: 'CASCADE' })
  @Column({ name: 'event_id', type: 'uuid' })
  eventId: string;

  /** The recipient. */
  @ForeignKey(() => UserAccount, { name: 'email_notifications_user_id_fkey' })
  @Column({ name: 'user_id', type: 'varchar', length: 50 })
  userId: string;

  /** The event's type. */
  @Column({ type: 'varchar', length: 50 })
  kind: string;

  @Column({ type: 'varchar', length: 10, default: 'pending' })
  status: EmailStatus;

  @Column({ name: 'to_address', type: 'varchar', length: 255, nullable: true })
  toAddress: string | null;

  @Column({ type: 'text', nullable: true })
  subject: string | null;

  @Column({ name: 'text_body', type: 'text', nullable: true })
  textBody: string | null;

  @Column({ name: 'html_body', type: 'text', nullable: true })
  htmlBody: string | null;

  @Column({ type: 'integer', default: 0 })
  attempts: number;

  @TimestampColumn('next_attempt_at', { nullable: true, defaultNow: true })
  nextAttemptAt: Date | null;

  @Column({ name: 'last_error', type: 'text', nullable: true })
  lastError: string | null;

  @TimestampColumn('created_at', { defaultNow: true })
  createdAt: Date;

  @TimestampColumn('sent_at', { nullable: true })
  sentAt: Date | null;
}
