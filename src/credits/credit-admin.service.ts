import { Inject, Injectable } from '@nestjs/common';

import { AccountsService } from '../accounts/accounts.service.js';
import { AuditService } from '../audit/audit.service.js';
import { assertNotOwnGrant } from '../auth/access.js';
import type { AuthUser } from '../auth/roles.js';
import { toDate } from '../common/validation/dates.js';
import { Transactions } from '../database/transactions.js';
import type { AllocationView } from './credit-views.js';
import { CreditsService } from './credits.service.js';

const DAY_MS = 86_400_000;

/** The supervisor and admin credit routes: each one transaction around a CreditsService movement. */
@Injectable()
export class CreditAdminService {
  constructor(
    private readonly credits: CreditsService,
    @Inject(AccountsService) private readonly accounts: AccountsService,
    @Inject(Transactions) private readonly tx: Transactions,
    @Inject(AuditService) private readonly audit: AuditService,
  ) {}

  /**
   * A manual grant; an unknown user is created first when `email` and `username` are given. A
   * supervisor's grant to their own account is refused before anything is written.
   */
  allocate(
    caller: AuthUser,
    body: {
      userId: string;
      credits: number;
      expiryDays?: number;
      expiresAt?: string;
      notes?: string;
      email?: string;
      username?: string;
    },
  ): Promise<AllocationView> {
    assertNotOwnGrant(caller, body.userId, 'credits');
    const expiresAt = body.expiresAt ? toDate(body.expiresAt) : new Date(Date.now() + (body.expiryDays ?? 30) * DAY_MS);
    return this.tx.run(async (manager) => {
      if (body.email && body.username) {
        await this.accounts.createIfMissing(manager, {
          userId: body.userId,
          email: body.email,
          username: body.username,
        });
      }
      const granted = await this.credits.grant(manager, {
        userId: body.userId,
        credits: body.credits,
        expiresAt,
        allocatedBy: caller.userId,
        notes: body.notes ?? null,
      });
      await this.audit.record(manager, {
        action: 'credits.allocate',
        targetId: granted.id,
        before: null,
        after: granted,
      });
      return granted;
    });
  }

  void(caller: AuthUser, allocationId: string, reason: string | null): Promise<AllocationView> {
    return this.tx.run(async (manager) => {
      const { before, after } = await this.credits.void(manager, allocationId, { voidedBy: caller.userId, reason });
      if (before.voidedAt === null) {
        await this.audit.record(manager, { action: 'credits.void', targetId: allocationId, before, after });
      }
      return after;
    });
  }
}
