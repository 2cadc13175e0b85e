import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

import type { ErasedPerson } from '../common/erasure.js';
import { DomainError } from '../common/errors/domain-error.js';
import { decodeTimeCursor, type Page, toPage } from '../common/http/pagination.js';
import { Transactions } from '../database/transactions.js';
import type {
  EmailPreferencesDto,
  NotificationDetailResponseDto,
  NotificationResponseDto,
} from './dto/notifications.dto.js';
import { EmailWorker } from './email.worker.js';
import { EMAIL_KINDS, type EmailKind } from './email-kinds.js';
import { type EmailListRow, EmailNotificationsRepository } from './email-notifications.repository.js';
import type { EmailStatus } from './entities/email-notification.entity.js';

const iso = (d: Date | null) => (d ? d.toISOString() : null);

function toView(r: EmailListRow): NotificationResponseDto {
  return {
    id: r.id,
    userId: r.user_id,
    kind: r.kind,
    to: r.to_address,
    subject: r.subject,
    status: r.status,
    attempts: r.attempts,
    createdAt: r.created_at.toISOString(),
    sentAt: iso(r.sent_at),
    lastError: r.last_error,
  };
}

/** Preferences, the list of emails and one-click unsubscribe (docs/notifications.md). */
@Injectable()
export class NotificationsService {
  constructor(
    private readonly emails: EmailNotificationsRepository,
    private readonly transactions: Transactions,
    private readonly worker: EmailWorker,
  ) {}

  /** An erasure: the user's emails without address, subject or bodies (docs/erasure.md). */
  erase(manager: EntityManager, person: ErasedPerson): Promise<number> {
    return this.emails.erase(manager, person);
  }

  async preferences(userId: string): Promise<{ email: Record<EmailKind, boolean> }> {
    const chosen = await this.emails.preferences(userId);
    return {
      email: Object.fromEntries(EMAIL_KINDS.map((k) => [k, chosen.get(k) ?? true])) as Record<EmailKind, boolean>,
    };
  }

  async setPreferences(userId: string, email: EmailPreferencesDto): Promise<{ email: Record<EmailKind, boolean> }> {
    const choices = EMAIL_KINDS.filter((k) => email[k] !== undefined).map((k): [string, boolean] => [k, email[k]!]);
    await this.transactions.run(async (manager) => {
      if (!(await this.emails.userExists(manager, userId))) throw new DomainError('NOT_FOUND', 'User not found');
      await this.emails.setPreferences(manager, userId, choices);
    });
    return this.preferences(userId);
  }

  /** A one-click unsubscribe (RFC 8058): the signed link names the user and the kind; no sign-in. */
  async unsubscribe(token: string): Promise<{ userId: string; kind: EmailKind; email: false }> {
    const named = this.worker.tokens.verify(token);
    if (!named) throw new DomainError('VALIDATION', 'The unsubscribe link is not valid');
    await this.transactions.run(async (manager) => {
      if (!(await this.emails.userExists(manager, named.userId)))
        throw new DomainError('VALIDATION', 'The unsubscribe link is not valid');
      await this.emails.setPreferences(manager, named.userId, [[named.kind, false]]);
    });
    return { userId: named.userId, kind: named.kind, email: false };
  }

  async list(
    query: { userId?: string; status?: EmailStatus; cursor?: string },
    limit: number,
  ): Promise<Page<NotificationResponseDto>> {
    const after = decodeTimeCursor(query.cursor, 'uuid');
    const rows = await this.emails.list({ userId: query.userId, status: query.status, after }, limit);
    return toPage(rows, limit, toView, (r) => ({ t: r.t_key, id: r.id }));
  }

  async get(id: string): Promise<NotificationDetailResponseDto> {
    const row = await this.emails.findOne(id);
    if (!row) throw new DomainError('NOT_FOUND', 'Email not found');
    return { ...toView(row), text: row.text_body, html: row.html_body };
  }
}
