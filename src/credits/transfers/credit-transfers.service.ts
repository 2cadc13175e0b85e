import { Inject, Injectable } from '@nestjs/common';

import { AuditService } from '../../audit/audit.service.js';
import { assertNotOwnGrant, SELF_GRANT_MESSAGES } from '../../auth/access.js';
import { type ResolvedAccount, sameAccount } from '../../auth/account-access.js';
import type { Taken } from '../../auth/auth.decorator.js';
import { type AuthUser, roleSatisfies } from '../../auth/roles.js';
import { DomainError, NotFoundError } from '../../common/errors/domain-error.js';
import { decodeTimeCursor, DEFAULT_LIMIT, type Page, toPage } from '../../common/http/pagination.js';
import { Transactions } from '../../database/transactions.js';
import { CreditAccountsService } from '../../engine/credit-accounts.service.js';
import type { TransferView } from '../../engine/credit-views.js';
import { CreditsService } from '../../engine/credits.service.js';
import type { CreateTransferDto } from '../dto/transfers.dto.js';

/**
 * The account a body's or a query's `{userId}` or `{orgId}` names (the API's input form, AccountRefDto),
 * by its kind and owner; anything else is a 400.
 */
export function accountName(ref: { userId?: string; orgId?: string }): Pick<ResolvedAccount, 'kind' | 'ownerId'> {
  if (ref.userId !== undefined && ref.orgId === undefined) return { kind: 'user', ownerId: ref.userId };
  if (ref.orgId !== undefined && ref.userId === undefined) return { kind: 'org', ownerId: ref.orgId };
  throw new DomainError('VALIDATION', 'give exactly one of userId and orgId');
}

const unknown = (account: Pick<ResolvedAccount, 'kind'>) =>
  new NotFoundError(account.kind === 'user' ? 'User' : 'Organisation');

/** Transfers between accounts (docs/money.md "Transfers"): supervisors, audited. */
@Injectable()
export class CreditTransfersService {
  constructor(
    private readonly credits: CreditsService,
    @Inject(CreditAccountsService) private readonly accounts: CreditAccountsService,
    @Inject(Transactions) private readonly tx: Transactions,
    @Inject(AuditService) private readonly audit: AuditService,
  ) {}

  /**
   * One transfer in one transaction, with its audit entry. Separation of duties: below admin, nobody
   * transfers into their own account or into an organisation they are an active member of.
   */
  /** `side`: the account each of the body's sides names, as the access guard read it (its `sides`). */
  async transfer(
    caller: AuthUser,
    body: CreateTransferDto,
    side: (name: 'from' | 'to') => Taken<ResolvedAccount | null>,
  ): Promise<TransferView> {
    const from = accountName(body.from);
    const to = accountName(body.to);
    if (sameAccount(from, to)) throw new DomainError('VALIDATION', 'from and to must be different accounts');
    if (to.kind === 'user') assertNotOwnGrant(caller, to.ownerId, 'transfer');
    // The two accounts as the access guard read what the body names (the edge of a body): an org that
    // does not exist is NOT_A_MEMBER, as for every write naming an org (account-access.ts), and the
    // resolver names the caller as the org's member when they are one (separation of duties); a user
    // without an account is a 404, an erased one's 409.
    const ids: (string | null)[] = [];
    for (const [name, named] of [
      ['from', from],
      ['to', to],
    ] as const) {
      const account = side(name).take();
      if (name === 'to' && named.kind === 'org' && account!.memberId !== null && !roleSatisfies(caller.role, 'admin'))
        throw new DomainError('SELF_GRANT_FORBIDDEN', SELF_GRANT_MESSAGES.transferToOrg);
      ids.push(account?.accountId ?? null);
    }
    const [fromId, toId] = ids;
    return this.tx.run(async (manager) => {
      if (fromId === null) throw unknown(from);
      if (toId === null) throw unknown(to);
      const view = await this.credits.transfer(manager, {
        from: fromId,
        to: toId,
        credits: body.credits,
        reason: body.reason ?? null,
        createdBy: caller.userId,
      });
      await this.audit.record(manager, { action: 'credits.transfer', targetId: view.id, before: null, after: view });
      return view;
    });
  }

  /**
   * An account's transfers, either way, or every transfer, newest first. `account`: the one the query
   * names, as the access guard resolved it (null: none named, or it has no account: 404).
   */
  async list(
    query: { userId?: string; orgId?: string; limit?: number; cursor?: string },
    account: ResolvedAccount | null,
  ): Promise<Page<TransferView>> {
    const named = query.userId === undefined && query.orgId === undefined ? null : accountName(query);
    const after = decodeTimeCursor(query.cursor, 'uuid');
    if (named && !account) throw unknown(named);
    const limit = query.limit ?? DEFAULT_LIMIT;
    const rows = await this.accounts.transferList({ accountId: account?.accountId ?? null, after, limit });
    return toPage(
      rows,
      limit,
      ({ cursorT: _, ...view }) => view,
      (r) => ({ t: r.cursorT, id: r.id }),
    );
  }
}
