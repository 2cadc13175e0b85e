import { Injectable } from '@nestjs/common';

import { AccountsService } from '../accounts/accounts.service.js';
import { AuditService } from '../audit/audit.service.js';
import { NotFoundError } from '../common/errors/domain-error.js';
import { Transactions } from '../database/transactions.js';
import { EventsService } from '../events/events.service.js';
import { IdempotencyRepository } from '../idempotency/idempotency.repository.js';
import { NotificationsService } from '../notifications/notifications.service.js';
import type { ErasureResponseDto } from './dto/erasure.dto.js';

/**
 * Erasure of a person (docs/erasure.md): in one transaction, each module that keeps the person's
 * email or username takes them out of its own tables — the audit log through audit_log_erase(), the
 * one function that may rewrite it —, then the account forgets them and is marked erased. The account's
 * id and its money stay. Erasing again answers the first erasure, and changes nothing.
 */
@Injectable()
export class ErasureService {
  constructor(
    private readonly tx: Transactions,
    private readonly accounts: AccountsService,
    private readonly audit: AuditService,
    private readonly notifications: NotificationsService,
    private readonly events: EventsService,
    private readonly idempotency: IdempotencyRepository,
  ) {}

  erase(userId: string, reason: string): Promise<ErasureResponseDto> {
    return this.tx.run(async (manager) => {
      const account = await this.accounts.lockForErasure(manager, userId);
      if (!account) throw new NotFoundError('User');
      if (account.erasedAt) return { userId, erasedAt: account.erasedAt.toISOString() };
      const { email, username } = account;
      // The log first: audit_log_erase() reads the email and username from the account, not yet erased.
      await this.audit.eraseMentions(manager, userId);
      await this.notifications.erase(manager, userId, email);
      if (email !== null || username !== null) {
        await this.events.erase(manager, email, username);
        await this.idempotency.erase(manager, email, username);
      }
      const erasedAt = (await this.accounts.markErased(manager, userId)).toISOString();
      // Naming only the id: the entry holds neither the email nor the username.
      await this.audit.record(manager, {
        action: 'user.erase',
        targetId: userId,
        before: null,
        after: { erasedAt, reason },
      });
      return { userId, erasedAt };
    });
  }
}
