import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

import type { ResolvedAccount } from '../../auth/account-access.js';
import { CLOCK, type Clock } from '../../common/clock.js';
import { decodeIdCursor, decodeTimeCursor, DEFAULT_LIMIT, type Page, toPage } from '../../common/http/pagination.js';
import { parseDateRange } from '../../common/validation/date-range.js';
import { Transactions } from '../../database/transactions.js';
import { type AllocationRow, toAllocation, toLedgerEntry } from '../../engine/credit-sql.js';
import type {
  AccountBalanceView,
  AllocationView,
  BalanceView,
  CreditSummaryView,
  LedgerEntryView,
  LedgerKind,
  ReconcileCheck,
  ReconcileMismatch,
} from '../../engine/credit-views.js';
import { CreditReadsRepository } from './credit-reads.repository.js';

/** What the credit routes read: balances, allocation and ledger pages, reconcile. Moves nothing. */
@Injectable()
export class CreditQueriesService {
  constructor(
    private readonly reads: CreditReadsRepository,
    @Inject(Transactions) private readonly tx: Transactions,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  /**
   * The manager for a plain read: the request's Idempotency-Key transaction when there is one (a
   * read on another pool connection would hold one connection while waiting for a second), else the pool.
   */
  get readManager(): EntityManager {
    return this.tx.statementManager;
  }

  /** The available balance plus what the account's overdraft still covers (the edge resolved it). */
  async spendable(accountId: string): Promise<number> {
    return this.reads.spendable(this.readManager, accountId);
  }

  /** A user's balance: the user's account as the edge resolved it. */
  async balance(account: Pick<ResolvedAccount, 'accountId' | 'ownerId'>): Promise<BalanceView> {
    return { userId: account.ownerId, ...(await this.accountBalance(account.accountId)) };
  }

  /**
   * An account's balance (a user's or an organisation's; null: no account, nothing in it): what GET
   * …/balance answers beside its owner.
   */
  async accountBalance(accountId: string | null): Promise<AccountBalanceView> {
    const manager = this.readManager;
    const rows = await this.reads.balanceRows(manager, accountId);
    const allocations = rows.filter((r) => r.id != null) as (AllocationRow & { held: string })[];
    return {
      totalCredits: allocations.reduce((sum, a) => sum + a.remaining_credits, 0),
      heldCredits: Number(rows[0].held),
      debt: rows[0].debt,
      billingCurrency: rows[0].billing_currency,
      activeAllocations: allocations.map((a) => ({
        id: a.id,
        credits: a.remaining_credits,
        totalCredits: a.total_credits,
        expiresAt: a.expires_at.toISOString(),
        allocatedAt: a.allocated_at.toISOString(),
        notes: a.notes,
        source: a.source,
        planId: a.plan_id,
        periodStart: a.period_start?.toISOString() ?? null,
        purchaseId: a.purchase_id,
      })),
    };
  }

  /** Allocations newest first; expired ones only with includeExpired. */
  async listAllocations(query: {
    accountId: string | null;
    includeExpired?: boolean;
    limit?: number;
    cursor?: string;
  }): Promise<Page<AllocationView>> {
    const limit = query.limit ?? DEFAULT_LIMIT;
    const rows = await this.reads.allocations({
      accountId: query.accountId,
      includeExpired: query.includeExpired ?? false,
      after: decodeTimeCursor(query.cursor, 'uuid'),
      limit,
    });
    return toPage(rows, limit, toAllocation, (r) => ({ t: r.cursor_t, id: r.id }));
  }

  /** The account's ledger, newest first, filtered by kind, time (inclusive bounds) and allocation. */
  async listLedger(query: {
    accountId: string | null;
    kind?: LedgerKind;
    from?: string;
    to?: string;
    allocationId?: string;
    limit?: number;
    cursor?: string;
  }): Promise<Page<LedgerEntryView>> {
    const limit = query.limit ?? DEFAULT_LIMIT;
    const after = decodeIdCursor(query.cursor);
    const rows = await this.reads.ledger({
      accountId: query.accountId,
      kind: query.kind,
      range: parseDateRange(query.from, query.to, ['from', 'to']),
      allocationId: query.allocationId,
      afterId: after?.id ?? null,
      limit,
    });
    return toPage(rows, limit, toLedgerEntry, (r) => ({ id: String(r.id) }));
  }

  /** The liability summary as of the app's clock (see CreditReadsRepository.summary). */
  summary(): Promise<CreditSummaryView> {
    return this.reads.summary(new Date(this.clock.now()));
  }

  /**
   * Reconcile: the credit checks, then `checks` of the modules above credits that the caller hands
   * down (the finance module's route: the purchases module's refunded lots), so credits reads no
   * table of theirs; all in one REPEATABLE READ snapshot.
   */
  reconcile(checks: ReconcileCheck[] = []): Promise<{ checkedAllocations: number; mismatches: ReconcileMismatch[] }> {
    return this.reads.reconcile(checks);
  }
}
