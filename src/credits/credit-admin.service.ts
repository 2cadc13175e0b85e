import { Inject, Injectable } from '@nestjs/common';

import { AccountsService, type UserCreatedHook } from '../accounts/accounts.service.js';
import { ErasedAccounts } from '../accounts/erased-accounts.js';
import { AuditService } from '../audit/audit.service.js';
import { ACCOUNT_ACCESS, type AccountAccess, type ResolvedAccount } from '../auth/account-access.js';
import type { AuthUser } from '../auth/roles.js';
import { CLOCK, type Clock } from '../common/clock.js';
import { NotFoundError } from '../common/errors/domain-error.js';
import { toMinor } from '../common/money/currencies.js';
import { toDate } from '../common/validation/dates.js';
import { Transactions } from '../database/transactions.js';
import type { AllocationView } from '../engine/credit-views.js';
import { CreditsService } from '../engine/credits.service.js';
import { CreditReadsRepository } from './balances/credit-reads.repository.js';

const DAY_MS = 86_400_000;

/** The supervisor and admin credit routes: each one transaction around a CreditsService movement. */
@Injectable()
export class CreditAdminService {
  constructor(
    private readonly credits: CreditsService,
    @Inject(AccountsService) private readonly accounts: AccountsService,
    @Inject(ErasedAccounts) private readonly erased: ErasedAccounts,
    @Inject(Transactions) private readonly tx: Transactions,
    @Inject(AuditService) private readonly audit: AuditService,
    private readonly reads: CreditReadsRepository,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(ACCOUNT_ACCESS) private readonly access: AccountAccess,
  ) {}

  /**
   * A manual grant to a user's account, or to an organisation's (`orgId`); an unknown user is created
   * first when `email` and `username` are given (with `onCreated`, the caller's, in its transaction:
   * the promotions module's signup grant). A supervisor's grant to their own account, or to an
   * org they are a member of, is refused before anything is written (separation of duties).
   */
  allocate(
    caller: AuthUser,
    body: {
      userId?: string;
      orgId?: string;
      credits: number;
      expiryDays?: number;
      expiresAt?: string;
      notes?: string;
      email?: string;
      username?: string;
      value?: { amount: string; currency: string };
    },
    onCreated?: UserCreatedHook,
  ): Promise<AllocationView> {
    const account: Pick<ResolvedAccount, 'kind' | 'ownerId'> =
      body.orgId !== undefined ? { kind: 'org', ownerId: body.orgId } : { kind: 'user', ownerId: body.userId ?? '' };
    if (account.kind === 'user') this.erased.assertNotErased(account.ownerId);
    const expiresAt = body.expiresAt
      ? toDate(body.expiresAt)
      : new Date(this.clock.now() + (body.expiryDays ?? 30) * DAY_MS);
    return this.tx.run(async (manager) => {
      // The account granted to, read with the decision in this transaction, or as it was just created.
      let accountId = await this.access.forGrant(caller, account, 'credits', manager);
      if (account.kind === 'user' && body.email && body.username) {
        accountId = await this.accounts.createIfMissing(
          manager,
          {
            userId: account.ownerId,
            email: body.email,
            username: body.username,
          },
          onCreated,
        );
      }
      if (accountId === null) throw new NotFoundError(account.kind === 'org' ? 'Org' : 'User');
      const granted = await this.credits.grant(manager, {
        accountId,
        credits: body.credits,
        expiresAt,
        allocatedBy: caller.userId,
        notes: body.notes ?? null,
        apiKeyId: caller.apiKeyId ?? null,
        value: body.value
          ? { minor: toMinor(body.value.amount, body.value.currency), currency: body.value.currency }
          : null,
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
