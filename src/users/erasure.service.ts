import { Injectable } from '@nestjs/common';

import { AccountsService } from '../accounts/accounts.service.js';
import { ApiKeysErasureRepository } from '../api-keys/api-keys-erasure.repository.js';
import { AuditService } from '../audit/audit.service.js';
import type { ErasedPerson } from '../common/erasure.js';
import { NotFoundError } from '../common/errors/domain-error.js';
import { Transactions } from '../database/transactions.js';
import { CreditAccountsService } from '../engine/credit-accounts.service.js';
import { EventsService } from '../events/events.service.js';
import { IdempotencyRepository } from '../idempotency/idempotency.repository.js';
import { NotificationsService } from '../notifications/notifications.service.js';
import { PortalErasureRepository } from '../portal/portal-erasure.repository.js';
import { AccountPricesErasureRepository } from '../pricing/account-prices-erasure.repository.js';
import { PurchasesErasureRepository } from '../purchases/purchases-erasure.repository.js';
import { SessionsErasureRepository } from '../streaming-sessions/sessions-erasure.repository.js';
import { UsageErasureRepository } from '../usage/usage-erasure.repository.js';
import type { ErasureResponseDto } from './dto/erasure.dto.js';

/**
 * Erasure of a person (docs/erasure.md): in one transaction, each module takes the person out of its
 * own rows of their account — never another account's, whatever the person's email or username is
 * (both are text they chose) —, the audit log last through audit_log_erase(), the one function that
 * may rewrite it, over the entries about the rows the other passes named; then the account forgets
 * them and is marked erased. Their keys are revoked and their portal sessions ended. The account's
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
    private readonly keys: ApiKeysErasureRepository,
    private readonly portal: PortalErasureRepository,
    private readonly credits: CreditAccountsService,
    private readonly usage: UsageErasureRepository,
    private readonly purchases: PurchasesErasureRepository,
    private readonly prices: AccountPricesErasureRepository,
    private readonly sessions: SessionsErasureRepository,
  ) {}

  erase(userId: string, reason: string): Promise<ErasureResponseDto> {
    return this.tx.run(async (manager) => {
      const account = await this.accounts.lockForErasure(manager, userId);
      if (!account) throw new NotFoundError('User');
      if (account.erasedAt) return { userId, erasedAt: account.erasedAt.toISOString() };
      const person: ErasedPerson = {
        userId,
        accountId: account.accountId,
        email: account.email,
        username: account.username,
      };
      await this.notifications.erase(manager, person);
      await this.events.erase(manager, person);
      await this.idempotency.erase(manager, person);
      await this.sessions.erase(manager, person);
      const rows = [
        await this.keys.erase(manager, person),
        await this.portal.erase(manager, person),
        ...(await this.credits.erase(manager, person)),
        await this.usage.erase(manager, person),
        await this.purchases.erase(manager, person),
        await this.prices.erase(manager, person),
      ];
      // Before markErased(): audit_log_erase() reads the email and username from the account itself.
      await this.audit.eraseMentions(manager, userId, rows);
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
