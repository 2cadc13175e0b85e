import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

import { ErasedAccounts } from '../../accounts/erased-accounts.js';
import { AuditService } from '../../audit/audit.service.js';
import { type AccountRule, ownAccount, type ResolvedAccount } from '../../auth/account-access.js';
import type { BodyNamed, Taken } from '../../auth/auth.decorator.js';
import type { AuthUser } from '../../auth/roles.js';
import { AccountErasedError, DomainError, NotFoundError } from '../../common/errors/domain-error.js';
import { decodeIdCursor, DEFAULT_LIMIT, type Page, toPage } from '../../common/http/pagination.js';
import { parseInstant } from '../../common/validation/dates.js';
import { Transactions } from '../../database/transactions.js';
import { type BudgetRow, CreditAccountsService } from '../../engine/credit-accounts.service.js';
import type { BudgetResponseDto, CreateBudgetDto, ListBudgetsQueryDto, UpdateBudgetDto } from '../dto/budgets.dto.js';

/** A chain holds at most this many budgets: a budget and four ancestors (docs/budgets.md). */
export const MAX_BUDGET_CHAIN = 5;

/**
 * Who sets and reads an account's budgets: staff (supervisor and up), the user themself (a token or
 * a key with `credits:read`), an organisation's owners, admins and billing members. A write naming
 * an erased user's account is 409 ACCOUNT_ERASED.
 */
export const BUDGET_SETTERS: AccountRule = { user: 'holder', org: 'reader', what: 'set its budgets', write: true };
export const BUDGET_READERS: AccountRule = { user: 'holder', org: 'reader', what: 'read its budgets' };

/**
 * The accounts a route on one budget (by its id) may mean, as the access guard resolved them: the one
 * the request names (null: none), and the caller's own where that is none (null: none yet).
 */
export interface BudgetReach {
  named: ResolvedAccount | null;
  own: ResolvedAccount | null;
}

/** A write's reach: with the caller's own account under BUDGET_SETTERS, as the guard applied it (OwnWrite). */
export interface BudgetWriteReach extends BudgetReach {
  ownWrite: Taken<ResolvedAccount | null>;
}

const instant = (value: string) => new Date(parseInstant(value)!.ms);

/** Staff (supervisor and up, by token): they hold no account a budget route could mean for them. */
const isStaff = (caller: AuthUser) => caller.role !== 'user';

export function toBudgetDto(row: BudgetRow): BudgetResponseDto {
  const limit = Number(row.credit_limit);
  const spent = Number(row.spent);
  const held = Math.min(Number(row.held), spent);
  const own = limit - spent;
  const room = row.room === null ? own : Math.min(own, Number(row.room));
  return {
    budgetId: row.budget_id,
    ...(row.org_id !== null ? { orgId: row.org_id } : { userId: row.user_id! }),
    scope: { kind: row.scope_kind, id: row.scope_id },
    parentBudgetId: row.parent_budget_id,
    limitCredits: limit,
    period: row.period,
    expiresAt: row.expires_at?.toISOString() ?? null,
    expired: row.expired,
    used: spent - held,
    held,
    remaining: Math.max(0, room),
    periodStart: row.period_start?.toISOString() ?? null,
    resetsAt: row.resets_at?.toISOString() ?? null,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

/**
 * Budgets by scope (docs/budgets.md): an account's caps on what one project, tag, agent run or
 * session may spend. Each change runs under the account's lock, so it lands between two takes: a
 * raised limit admits the next write at once, and no change resets what was used.
 */
@Injectable()
export class CreditBudgetsService {
  constructor(
    @Inject(CreditAccountsService) private readonly accounts: CreditAccountsService,
    @Inject(Transactions) private readonly tx: Transactions,
    @Inject(AuditService) private readonly audit: AuditService,
    @Inject(ErasedAccounts) private readonly erased: ErasedAccounts,
  ) {}

  /**
   * Creates it; the same budgetId and body again answers it (`created` false), another body is 409.
   * Staff name the account (400 without: they have none of their own to mean); a user or key may
   * leave it out for its own. The access guard resolved both: `own`, the caller's (null: none yet),
   * and `inBody`, the one the body names under BUDGET_SETTERS; `erased`: the erased users the
   * request names, as it read them.
   */
  async create(
    caller: AuthUser,
    dto: CreateBudgetDto,
    own: ResolvedAccount | null,
    inBody: BodyNamed,
    erased: ReadonlySet<string>,
  ): Promise<{ budget: BudgetResponseDto; created: boolean }> {
    const naming = dto.userId !== undefined || dto.orgId !== undefined;
    if (isStaff(caller) && !naming)
      throw new DomainError('VALIDATION', 'Name the account the budget caps: userId or orgId');
    // The rule's refusal, an erased user's 409 included (BUDGET_SETTERS writes), where it was decided.
    const account = naming ? inBody.take() : own;
    if (!account)
      throw new NotFoundError((naming ? dto.orgId !== undefined : ownAccount(caller).kind === 'org') ? 'Org' : 'User');
    if (account.kind === 'user' && erased.has(account.ownerId)) throw new AccountErasedError(409);
    const period = dto.period ?? 'lifetime';
    const expiresAt = dto.expiresAt === undefined ? null : instant(dto.expiresAt);
    return this.tx.run(async (m) => {
      await this.lock(m, account.accountId);
      const existing = await this.accounts.budget(m, account.accountId, dto.budgetId);
      if (existing) return { budget: this.same(existing, account, dto, period, expiresAt), created: false };
      if (dto.parentBudgetId !== undefined) {
        const parent = await this.accounts.budget(m, account.accountId, dto.parentBudgetId);
        if (!parent) throw new DomainError('VALIDATION', 'parentBudgetId must name a budget of the same account');
        if ((await this.accounts.budgetChainLength(m, account.accountId, dto.parentBudgetId)) + 1 > MAX_BUDGET_CHAIN)
          throw new DomainError('VALIDATION', `a chain holds at most ${MAX_BUDGET_CHAIN} budgets`);
      }
      const taken = await this.accounts.budgetOfScope(m, account.accountId, dto.scope.kind, dto.scope.id);
      if (taken !== null)
        throw new DomainError('BUDGET_EXISTS', `Budget ${taken} already caps this scope of the account`);
      const inserted = await this.accounts.addBudget(m, {
        budgetId: dto.budgetId,
        accountId: account.accountId,
        scopeKind: dto.scope.kind,
        scopeId: dto.scope.id,
        parentBudgetId: dto.parentBudgetId ?? null,
        limit: dto.limitCredits,
        period,
        expiresAt,
        createdBy: caller.userId,
      });
      // Under the account's lock the id and the scope were free: a conflict here is not expected.
      if (!inserted) throw new DomainError('BUDGET_EXISTS', `Budget ${dto.budgetId} exists with another body`);
      const budget = toBudgetDto((await this.accounts.budget(m, account.accountId, dto.budgetId))!);
      await this.audit.record(m, {
        action: 'budget.create',
        targetId: dto.budgetId,
        before: null,
        after: budget,
      });
      return { budget, created: true };
    });
  }

  /** The same creation again: the budget as it stands; any difference is 409 BUDGET_EXISTS. */
  private same(
    row: BudgetRow,
    account: ResolvedAccount,
    dto: CreateBudgetDto,
    period: string,
    expiresAt: Date | null,
  ): BudgetResponseDto {
    const same =
      row.account_id === account.accountId &&
      row.scope_kind === dto.scope.kind &&
      row.scope_id === dto.scope.id &&
      row.parent_budget_id === (dto.parentBudgetId ?? null) &&
      Number(row.credit_limit) === dto.limitCredits &&
      row.period === period &&
      (row.expires_at?.getTime() ?? null) === (expiresAt?.getTime() ?? null);
    if (!same) throw new DomainError('BUDGET_EXISTS', `Budget ${dto.budgetId} exists with another body`);
    return toBudgetDto(row);
  }

  async update(
    caller: AuthUser,
    accounts: BudgetWriteReach,
    budgetId: string,
    dto: UpdateBudgetDto,
  ): Promise<BudgetResponseDto> {
    const before = await this.writable(caller, accounts, budgetId);
    return this.tx.run(async (m) => {
      await this.lock(m, before.account_id);
      await this.accounts.changeBudget(m, before.id, {
        limit: dto.limitCredits,
        expiresAt: dto.expiresAt === undefined ? undefined : dto.expiresAt === null ? null : instant(dto.expiresAt),
      });
      const after = await this.accounts.budget(m, before.account_id, budgetId);
      if (!after) throw new NotFoundError('Budget');
      const budget = toBudgetDto(after);
      await this.audit.record(m, {
        action: 'budget.update',
        targetId: budgetId,
        before: toBudgetDto(before),
        after: budget,
      });
      return budget;
    });
  }

  async delete(caller: AuthUser, accounts: BudgetWriteReach, budgetId: string): Promise<void> {
    const before = await this.writable(caller, accounts, budgetId);
    await this.tx.run(async (m) => {
      await this.lock(m, before.account_id);
      await this.accounts.removeBudget(m, before);
      await this.audit.record(m, {
        action: 'budget.delete',
        targetId: budgetId,
        before: toBudgetDto(before),
        after: null,
      });
    });
  }

  async get(caller: AuthUser, accounts: BudgetReach, budgetId: string): Promise<BudgetResponseDto> {
    return toBudgetDto(await this.reachable(caller, accounts, budgetId));
  }

  /** An account's budgets by budgetId: the one named, else the caller's own, as the guard resolved it. */
  async list(account: ResolvedAccount, query: ListBudgetsQueryDto): Promise<Page<BudgetResponseDto>> {
    const after = decodeIdCursor(query.cursor, 'text')?.id ?? null;
    const limit = query.limit ?? DEFAULT_LIMIT;
    const rows = await this.tx.run((m) =>
      this.accounts.budgetList(m, account.accountId, { kind: query.kind ?? null, after }, limit + 1),
    );
    return toPage(rows, limit, toBudgetDto, (row) => ({ id: row.budget_id }));
  }

  /**
   * The budget `budgetId` of the account the request names (the guard resolved it under the route's
   * rule), else of the caller's own; staff naming none reach the one account that has that id (two
   * or more: 400, name the account). Another account's budget is 404 as a missing one: ids are per
   * account, so nothing tells whether another account has one.
   */
  private async reachable(caller: AuthUser, { named, own }: BudgetReach, budgetId: string): Promise<BudgetRow> {
    let row: BudgetRow | null;
    if (named) row = await this.tx.run((m) => this.accounts.budget(m, named.accountId, budgetId));
    else if (!isStaff(caller)) {
      if (!own) throw new NotFoundError(ownAccount(caller).kind === 'org' ? 'Org' : 'User');
      row = await this.tx.run((m) => this.accounts.budget(m, own.accountId, budgetId));
    } else {
      const rows = await this.tx.run((m) => this.accounts.budgetsAnywhere(m, budgetId));
      if (rows.length > 1)
        throw new DomainError(
          'VALIDATION',
          `More than one account has budget ${budgetId}: name it with userId or orgId`,
        );
      row = rows[0] ?? null;
    }
    if (!row) throw new NotFoundError('Budget');
    return row;
  }

  /**
   * reachable(), for a write under BUDGET_SETTERS, once the budget is found: the account the request
   * names passed it at the guard; the caller's own is refused here as the guard decided it (404 / 403;
   * an erased user's: 409); staff, who reach every account, are refused an erased user's (409).
   */
  private async writable(caller: AuthUser, reach: BudgetWriteReach, budgetId: string): Promise<BudgetRow> {
    const row = await this.reachable(caller, reach, budgetId);
    if (reach.named) return row;
    if (!isStaff(caller)) reach.ownWrite.take();
    else if (row.org_id === null) this.erased.assertNotErased(row.user_id);
    return row;
  }

  private async lock(m: EntityManager, accountId: string): Promise<void> {
    if (!(await this.accounts.lockAccount(m, accountId))) throw new NotFoundError('Account');
  }
}
