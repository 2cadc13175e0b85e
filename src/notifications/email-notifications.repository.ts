import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';

import { EMAIL_RE, type ErasedPerson, erasureParams, NAME_RE } from '../common/erasure.js';
import { cursorTimestampSql } from '../common/http/pagination.js';
import { CLAIM_STILL_OWN, claimDueCtes } from '../database/outbox/outbox-claim.js';
import { SqlFilter } from '../database/sql-filter.js';
import type { EmailKind } from './email-kinds.js';
import type { EmailEvent } from './email-templates.js';
import type { EmailStatus } from './entities/email-notification.entity.js';

/** The channel the queue trigger notifies at commit. */
export const EMAIL_CHANNEL = 'email_notifications';

/** An email claimed for one attempt, with everything making and sending it needs. */
export interface ClaimedEmail {
  id: string;
  /** This attempt's number; the outcome is written only while the row still has it. */
  attempts: number;
  createdAt: Date;
  userId: string;
  /** The event the email is made from, with its typed data. */
  event: EmailEvent;
  /** What an earlier attempt made (null: not made yet). */
  made: { to: string; subject: string; text: string; html: string } | null;
  userEmail: string | null;
  username: string | null;
  orgName: string | null;
  /** The user's preference for this kind (true unless turned off). */
  wanted: boolean;
}

interface ClaimSqlRow {
  id: string;
  attempts: number;
  created_at: Date;
  user_id: string;
  kind: EmailKind;
  to_address: string | null;
  subject: string | null;
  text_body: string | null;
  html_body: string | null;
  data: Record<string, unknown>;
  email: string | null;
  username: string | null;
  org_name: string | null;
  wanted: boolean;
}

/** An attempt's outcome: the email as made, its new status, and when to try again (pending only). */
export interface EmailOutcome {
  status: EmailStatus;
  made: { to: string | null; subject: string; text: string; html: string };
  sentAt: Date | null;
  lastError: string | null;
  nextAttemptAt: Date | null;
}

export interface EmailListRow {
  id: string;
  user_id: string;
  kind: string;
  to_address: string | null;
  subject: string | null;
  status: EmailStatus;
  attempts: number;
  created_at: Date;
  sent_at: Date | null;
  last_error: string | null;
  text_body: string | null;
  html_body: string | null;
  t_key: string;
}

/** email_notifications and notification_preferences: claims, outcomes, the list, preferences. */
@Injectable()
export class EmailNotificationsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * Claims up to `limit` due emails for one attempt each, under a lease of `leaseMs` (the outbox core's
   * claim, `claimDueCtes()`); reads what the email is made from in the same statement.
   */
  async claimDue(now: Date, limit: number, leaseMs: number): Promise<ClaimedEmail[]> {
    const rows: ClaimSqlRow[] = await this.dataSource.query(
      `${claimDueCtes(
        'email_notifications',
        'o.id, o.attempts, o.created_at, o.event_id, o.user_id, o.kind, o.to_address, o.subject, o.text_body, o.html_body',
      )}
       SELECT c.id, c.attempts, c.created_at, c.user_id, c.kind, c.to_address, c.subject, c.text_body,
              c.html_body, e.data, u.email, u.username, o.name AS org_name, COALESCE(p.email, true) AS wanted
         FROM claimed c
         JOIN events e ON e.id = c.event_id
         JOIN user_accounts u ON u.user_id = c.user_id
         LEFT JOIN orgs o ON o.org_id = e.data->>'orgId'
         LEFT JOIN notification_preferences p ON p.user_id = c.user_id AND p.kind = c.kind`,
      [now, limit, leaseMs],
    );
    return rows.map((r) => ({
      id: r.id,
      attempts: r.attempts,
      createdAt: r.created_at,
      userId: r.user_id,
      // The data was stored by EventsService.emit() from the typed payload of this kind.
      event: { kind: r.kind, data: r.data } as EmailEvent,
      made:
        r.subject !== null && r.to_address !== null
          ? { to: r.to_address, subject: r.subject, text: r.text_body ?? '', html: r.html_body ?? '' }
          : null,
      userEmail: r.email,
      username: r.username,
      orgName: r.org_name,
      wanted: r.wanted,
    }));
  }

  /** Writes an attempt's outcome, only while the row is still this claim's (same attempt, pending). */
  async recordOutcome(claim: Pick<ClaimedEmail, 'id' | 'attempts'>, outcome: EmailOutcome): Promise<boolean> {
    const [rows]: [unknown[], number] = await this.dataSource.query(
      `UPDATE email_notifications
          SET status = $3, to_address = $4, subject = $5, text_body = $6, html_body = $7, sent_at = $8,
              last_error = left($9, 500), next_attempt_at = $10
        WHERE ${CLAIM_STILL_OWN}
       RETURNING id`,
      [
        claim.id,
        claim.attempts,
        outcome.status,
        outcome.made.to,
        outcome.made.subject,
        outcome.made.text,
        outcome.made.html,
        outcome.sentAt,
        outcome.lastError,
        outcome.nextAttemptAt,
      ],
    );
    return rows.length > 0;
  }

  async list(
    filter: { userId?: string; status?: EmailStatus; after: { t: string; id: string } | null },
    limit: number,
  ): Promise<EmailListRow[]> {
    const where = new SqlFilter()
      .equal('n.user_id', filter.userId)
      .equal('n.status', filter.status)
      .before('n.created_at', 'n.id', filter.after);
    return this.dataSource.query(
      `SELECT n.id, n.user_id, n.kind, n.to_address, n.subject, n.status, n.attempts, n.created_at, n.sent_at,
              n.last_error, NULL AS text_body, NULL AS html_body, ${cursorTimestampSql('n.created_at')} AS t_key
         FROM email_notifications n
        ${where.clause}
        ORDER BY n.created_at DESC, n.id DESC
        LIMIT ${where.param(limit + 1)}`,
      where.params,
    );
  }

  async findOne(id: string): Promise<EmailListRow | null> {
    const rows: EmailListRow[] = await this.dataSource.query(
      `SELECT n.id, n.user_id, n.kind, n.to_address, n.subject, n.status, n.attempts, n.created_at, n.sent_at,
              n.last_error, n.text_body, n.html_body, '' AS t_key
         FROM email_notifications n WHERE n.id = $1`,
      [id],
    );
    return rows[0] ?? null;
  }

  async preferences(userId: string): Promise<Map<string, boolean>> {
    const rows: { kind: string; email: boolean }[] = await this.dataSource.query(
      `SELECT kind, email FROM notification_preferences WHERE user_id = $1`,
      [userId],
    );
    return new Map(rows.map((r) => [r.kind, r.email]));
  }

  /** Sets the user's choice for each kind given (one row per user and kind); the user must exist. */
  async setPreferences(manager: EntityManager, userId: string, choices: [string, boolean][]): Promise<void> {
    if (choices.length === 0) return;
    await manager.query(
      `INSERT INTO notification_preferences (user_id, kind, email, updated_at)
       SELECT $1, c.kind, c.email, now() FROM unnest($2::varchar[], $3::boolean[]) AS c(kind, email)
       ON CONFLICT (user_id, kind) DO UPDATE SET email = EXCLUDED.email, updated_at = EXCLUDED.updated_at`,
      [userId, choices.map((c) => c[0]), choices.map((c) => c[1])],
    );
  }

  /**
   * An erasure (docs/erasure.md): the user's own emails (`user_id`, indexed), kept or sent, lose
   * address, subject and bodies (and the address in an error); one still pending is suppressed, never
   * sent. Another user's emails are never read, whatever their address. Answers how many.
   */
  async erase(manager: EntityManager, person: ErasedPerson): Promise<number> {
    const rows: unknown[] = await manager.query(
      `UPDATE email_notifications
          SET to_address = NULL, subject = NULL, text_body = NULL, html_body = NULL,
              last_error = erase_text(last_error, ${EMAIL_RE}, ${NAME_RE}),
              status = CASE WHEN status = 'pending' THEN 'suppressed' ELSE status END
        WHERE user_id = $1
        RETURNING 1`,
      erasureParams(person),
    );
    return rows.length;
  }

  async userExists(manager: EntityManager, userId: string): Promise<boolean> {
    const rows: unknown[] = await manager.query(`SELECT 1 FROM user_accounts WHERE user_id = $1`, [userId]);
    return rows.length > 0;
  }
}
