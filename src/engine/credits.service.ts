import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

import type { ResolvedAccount } from '../auth/account-access.js';
import {
  DomainError,
  InsufficientCreditsError,
  NotAMemberError,
  NotFoundError,
} from '../common/errors/domain-error.js';
import { isUuid } from '../common/validation/ids.js';
import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { SqlPart } from '../database/statement-parts.js';
import { Transactions } from '../database/transactions.js';
import { AccountLocksRepository } from './account-locks.repository.js';
import {
  type CorrectedItem,
  type CorrectStatement,
  CreditCorrectionsRepository,
} from './corrections/credit-corrections.repository.js';
import { CreditCapsService } from './credit-caps.service.js';
import {
  CreditHoldsRepository,
  type HoldRequest,
  type HoldsKey,
  type InsertAfterHold,
  type InsertAfterHolds,
  type SettleStatement,
} from './credit-holds.repository.js';
import { CreditMoves } from './credit-moves.js';
import { type AllocationRow, toAllocation } from './credit-sql.js';
import { CreditTransfersRepository } from './credit-transfers.repository.js';
import type {
  AllocationView,
  GrantInput,
  LedgerRefs,
  RolloverInput,
  Settlement,
  SpendRefs,
  TransferView,
} from './credit-views.js';
import { CreditsRepository, type TakeSpec } from './credits.repository.js';
import { type BatchOutcome, toBatchOutcome } from './credits-batch.js';
import { type BatchTakeStatement, CreditsBatchRepository } from './credits-batch.repository.js';
import { checkAmount, type Held, heldAnswer, holdOf, memberLimitError } from './credits-results.js';
import { CreditSettlementsRepository, type SettleManyStatement } from './settlements/credit-settlements.repository.js';

/** One settlement of many's answer: as CreditsService.settleSession answers it alone, or its error. */
export type SettledSessionAnswer<R> = { row: R; settlement: Settlement | null } | null | Error;

/** Due allocations per round of the expiry job (credits_expire_due() locks their accounts together). */
const EXPIRY_BATCH = 500;

/**
 * The ONE way credits move (docs/money.md). Every movement happens inside the caller's transaction
 * (the `manager`), starts with the user's account-row lock (one user's movements serialise, different
 * users never wait on each other), changes `credit_allocations.remaining_credits` and writes one
 * ledger entry per allocation touched, so `remaining = total + Σ non-grant ledger amounts` holds at
 * every commit. No code outside src/engine/ and src/credits/ writes a credit table (test/unit/money-path.spec.ts).
 */
@Injectable()
export class CreditsService {
  constructor(
    private readonly repo: CreditsRepository,
    private readonly holds: CreditHoldsRepository,
    @Inject(AccountLocksRepository) private readonly locks: AccountLocksRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(Transactions) private readonly tx: Transactions,
    private readonly moves: CreditMoves,
    private readonly batchRepo: CreditsBatchRepository,
    private readonly transfers: CreditTransfersRepository,
    private readonly caps: CreditCapsService,
    private readonly corrections: CreditCorrectionsRepository,
    private readonly settlements: CreditSettlementsRepository,
  ) {}

  /**
   * A refusal of a charge of `amount` (a batch take's, or a hold's) as the single take reports it: the
   * engine answers a member's refusals by code (toBatchOutcome, takeResult), the single take says
   * whose they are, and where the member's limit stands (read now, after the refusal). Other refusals
   * are the same either way.
   */
  async singleRefusal(
    error: DomainError,
    amount: number,
    who: { account: Pick<ResolvedAccount, 'kind' | 'ownerId' | 'memberId'>; accountId: string | null },
  ): Promise<DomainError> {
    const { kind, ownerId, memberId } = who.account;
    if (kind !== 'org' || memberId === null) return error;
    if (error.code === 'MEMBER_LIMIT_EXCEEDED') {
      const member = await this.caps.memberLimit(this.tx.statementManager, who.accountId, memberId);
      return memberLimitError(amount, member);
    }
    // An unknown org (no account) answers as one the user is not a member of: no org-id oracle.
    if (error.code === 'NOT_A_MEMBER' || error.code === 'NOT_FOUND') return new NotAMemberError(ownerId, memberId);
    return error;
  }

  /** A take of the kind and mode given: its amount checked, the key split off the ledger refs. */
  private spec(member: string | null, amount: number, how: Pick<TakeSpec, 'kind' | 'mode'>, refs: SpendRefs): TakeSpec {
    checkAmount(amount);
    const { apiKeyId, ...ledgerRefs } = refs;
    return { member, amount, ...how, refs: ledgerRefs, apiKeyId, ...this.moves.controls() };
  }

  /**
   * Collects a reviewed shortfall now: from the balance as far as it goes, the rest as debt whatever
   * the overdraft limit (the review queue's `collect`). From the account that paid the record: the
   * organisation's (`orgId`, the member `userId` spent it) or the user's own: `accountId`, which the
   * record carries.
   */
  async collect(
    manager: EntityManager,
    who: { accountId: string; userId: string; orgId: string | null },
    amount: number,
    refs: LedgerRefs,
  ) {
    const member = who.orgId ? who.userId : null;
    const spec = this.spec(member, amount, { kind: 'debit', mode: 'collect' }, refs);
    const { collected, debt } = this.moves.taken(await this.repo.take(manager, who.accountId, spec), amount, 'debit');
    return { collected, debt };
  }

  /**
   * Strict debits and their rows (a metered record each) for many events, of any accounts, in ONE
   * statement (one round trip; a record alone is a batch of one): the caller's parts decide which
   * events apply (`events`: a duplicate or an unknown user moves nothing) and write their rows
   * (`records`); then every account is locked (account-id order) and per event in array order the
   * one take (credits_take_events()) makes a strict debit: soonest-expiring allocations first (ties:
   * oldest), what the balance lacks from the overdraft as debt, the ledger lines pointing at the row; the caller's `release` undoes its rows of the
   * events refused. A refusal (its error, not thrown) moves nothing for that event only; the later
   * events still apply.
   */
  async debitAndInsertMany(
    manager: EntityManager,
    refs: { apiKeyId?: string | null },
    then: BatchTakeStatement,
  ): Promise<BatchOutcome[]> {
    for (const amount of then.amounts) checkAmount(amount);
    const rows = await this.batchRepo.takeBatch(manager, { ...this.moves.controls(), ...refs }, then);
    let debited = 0;
    let borrowed = 0;
    const outcomes = rows.map((row, i) => {
      const outcome = toBatchOutcome(row, then.amounts[i]);
      if (outcome.status === 'created') {
        debited += outcome.collected;
        borrowed += outcome.debt;
      }
      return outcome;
    });
    this.moves.moved('debit', debited);
    this.moves.moved('overdraft', borrowed);
    return outcomes;
  }

  /**
   * A hold for a streaming session and an INSERT in ONE statement (one round trip; its own
   * transaction when the manager is the pool's). The hold is a strict take of kind `hold` (with the
   * session id) that never uses the overdraft and counts against the key budget and the spend rate;
   * how much came from each allocation stays in the ledger, so the settlement gives it back to the
   * same rows. Nothing happens when `then.unless` holds, the row is inserted only when the hold
   * happened, and a refusal answers its error (`refused`, by code: the caller names whose it is
   * through singleRefusal()) with nothing written. Null when the key is taken: by `unless`, or by a
   * concurrent statement (a unique violation rolled the whole statement back). Streaming initialize
   * uses it: the session row goes in with its hold.
   */
  async holdAndInsert<R>(manager: EntityManager, hold: HoldRequest, then: InsertAfterHold): Promise<Held<R>> {
    const result = await this.holds.holdAndInsert<R>(
      manager,
      hold.accountId,
      { ...holdOf(hold), ...this.moves.controls() },
      then,
    );
    return heldAnswer(result, (row) => this.moves.taken(row, hold.amount, 'hold'));
  }

  /**
   * Holds for streaming sessions that arrive together, each with its INSERT (`fields`: its own
   * fields for `then`), in ONE statement (CreditHoldsRepository.holdAndInsertMany): through the key
   * `key.apiKeyId` (one take), or `'each'` through its own (`refs.apiKeyId`; one take an account and
   * key), each hold decided in its order and answered as holdAndInsert answers it alone. A statement
   * that failed as a whole throws (nothing written): the caller sends the holds again alone.
   */
  async holdAndInsertMany<R>(
    manager: EntityManager,
    key: HoldsKey,
    items: { hold: HoldRequest; fields: Record<string, unknown> }[],
    then: InsertAfterHolds,
  ): Promise<Held<R>[]> {
    const specs = items.map(({ hold, fields }) => ({ accountId: hold.accountId, hold: holdOf(hold), fields }));
    const results = await this.holds.holdAndInsertMany<R>(manager, { key, ...this.moves.controls() }, specs, then);
    return results.map((result, k) => heldAnswer(result, (row) => this.moves.taken(row, items[k].hold.amount, 'hold')));
  }

  /**
   * A streaming settlement in ONE statement (SettleStatement): the caller's `session` part locks the
   * session row and prices it; when it is to be settled, credits_settle() keeps up to the hold of
   * the charge from the soonest-expiring held parts, gives the rest back to the allocations it came
   * from, latest expiry first, with their expiry unchanged (and to the hold's key), takes the overrun
   * from the balance then the overdraft (through the hold's key, never refused), and answers the
   * shortfall; the caller's `writes` (its usage record, the session row) run in the same statement.
   * Null when the session part found no row; `settlement` null when it was not to be settled
   * (nothing moved). A hold settled already → ALREADY_SETTLED (409).
   */
  async settleSession<R>(
    manager: EntityManager,
    refs: { createdBy: string; usageRecordId: string },
    statement: SettleStatement,
  ): Promise<{ row: R; settlement: Settlement | null } | null> {
    const result = await this.holds.settleAndWrite<R>(manager, { ...refs, ...this.moves.controls() }, statement);
    if (!result?.settlement) return result && { row: result.row, settlement: null };
    return { row: result.row, settlement: this.moves.settled(result.settlement) };
  }

  /**
   * Streaming settlements that arrive together in ONE statement (SettleManyStatement; docs/money.md
   * "Finalizes that arrive together"): the caller's `session` part locks and prices each item's
   * session; every account of those to be settled is locked once, in account id order; those whose
   * hold covers the charge are settled together, the rest by credits_settle() in item order, each
   * answering and writing what settleSession() does for it alone; the caller's `writes` run for
   * those settled. Each item answers as settleSession() would alone, its
   * error (ALREADY_SETTLED) answered, not thrown.
   */
  async settleSessions<R>(manager: EntityManager, statement: SettleManyStatement): Promise<SettledSessionAnswer<R>[]> {
    const results = await this.settlements.settleAndWriteMany<R>(manager, this.moves.controls(), statement);
    return results.map((result) => {
      if (!result?.settlement) return result && { row: result.row, settlement: null };
      try {
        return { row: result.row, settlement: this.moves.settled(result.settlement) };
      } catch (error) {
        return error as Error;
      }
    });
  }

  /** Takes the account lock of an account a grant or a rollover names (its id: the caller resolved it). */
  private async lock(manager: EntityManager, accountId: string): Promise<void> {
    if (!(await this.locks.lockId(manager, accountId))) throw new NotFoundError('Account');
  }

  /** New allocation with a `grant` ledger entry (+total). The account must exist (404 otherwise). */
  async grant(manager: EntityManager, input: GrantInput): Promise<AllocationView> {
    const granted = await this.grantOnce(manager, input);
    if (!granted) throw new DomainError('PERIOD_ALREADY_GRANTED', 'This period was granted already');
    return granted;
  }

  /**
   * A grant that exists at most once: a plan period's grant or rollover (`input.plan`), or a paid
   * purchase's allocation (`input.purchaseId`), that was already made answers null and writes nothing
   * (a unique index decides, so concurrent attempts and other instances cannot grant twice). credits_grant() repays the debt first and arms
   * the balance alerts again.
   */
  async grantOnce(manager: EntityManager, input: GrantInput): Promise<AllocationView | null> {
    await this.lock(manager, input.accountId);
    const row = await this.repo.grant(manager, input.accountId, input);
    return row && this.granted(row);
  }

  /** A new allocation's metrics, once its grant commits (credits_grant() told credits.granted). */
  private granted(row: AllocationRow): AllocationView {
    this.moves.moved('grant', row.total_credits);
    this.moves.moved('repay', row.total_credits - row.remaining_credits);
    return toAllocation(row);
  }

  /**
   * Rolls up to `cap` unused credits of a subscription's plan allocation for the period starting at
   * `from` over into a new allocation (`source: rollover`) for the next period: a `rollover` entry
   * takes them out of the old allocation, a `grant` entry puts them in the new one
   * (credits_rollover()). Null when there is nothing to roll over or it was rolled over already.
   */
  async rollover(manager: EntityManager, input: RolloverInput): Promise<AllocationView | null> {
    await this.lock(manager, input.accountId);
    const old = await this.repo.lockPeriodGrant(manager, input.into.subscriptionId, input.from);
    if (!old) return null;
    const created = await this.repo.rollover(manager, {
      accountId: input.accountId,
      from: old.id,
      cap: input.cap,
      expiresAt: input.expiresAt,
      plan: input.into,
    });
    if (!created) return null;
    this.moves.moved('rollover', created.total_credits);
    return this.granted(created);
  }

  /**
   * Moves `credits` from one account to another (credits_transfer(), both accounts locked in account id
   * order): soonest-expiring first from what the source may spend (held credits and the overdraft
   * never move), each part arriving as a new allocation (`source: transfer`) with the expiry of the one
   * it left. Short → INSUFFICIENT_CREDITS, an unknown account (a null id) → 404, the same account →
   * 400; nothing written then. The new allocations tell `credits.granted` as every new allocation does.
   */
  async transfer(
    manager: EntityManager,
    input: { from: string | null; to: string | null; credits: number; reason: string | null; createdBy: string },
  ): Promise<TransferView> {
    checkAmount(input.credits);
    const row = await this.transfers.transfer(manager, input, this.config.credits.lowBalanceThresholds);
    if (row.out_status === 'no_source' || row.out_status === 'no_destination') throw new NotFoundError('Account');
    if (row.out_status === 'same_account')
      throw new DomainError('VALIDATION', 'from and to must be different accounts');
    if (row.out_status === 'insufficient') throw new InsufficientCreditsError(input.credits, Number(row.out_available));
    const view = (await this.transfers.find(manager, row.out_transfer_id!))!;
    this.moves.moved('transfer_out', input.credits);
    this.moves.moved('transfer_in', input.credits);
    return view;
  }

  /**
   * Voids an allocation: its remaining credits leave through one `void` entry and it is marked voided
   * (credits_void()). Voiding again is an idempotent no-op that answers the allocation as it is.
   */
  async void(
    manager: EntityManager,
    allocationId: string,
    input: { voidedBy: string; reason?: string | null },
  ): Promise<{ before: AllocationView; after: AllocationView }> {
    const found = isUuid(allocationId) ? await this.repo.findAllocation(manager, allocationId) : null;
    if (!found) throw new NotFoundError('Allocation');
    await this.locks.lockId(manager, found.account_id);
    const row = await this.repo.lockAllocation(manager, allocationId);
    const before = toAllocation(row);
    if (row.voided_at !== null && row.remaining_credits === 0) return { before, after: before };
    const voided = await this.repo.void(manager, allocationId, {
      voidedBy: input.voidedBy,
      reason: input.reason ?? null,
      thresholds: this.config.credits.lowBalanceThresholds,
    });
    this.moves.moved('void', row.remaining_credits);
    return { before, after: toAllocation(voided!) };
  }

  /**
   * The expiry job's work through credits_expire_due(): every account with allocations due, those of
   * the EXPIRY_BATCH soonest-expired at a time, each round ONE statement under those accounts' locks
   * (so its balance alerts and a take's are decided one after the other). Answers the number of
   * `expire` entries. A plan period's allocation waits past its expiry for its renewal (which may
   * roll some over): the caller, the plans module's expiry job, hands down `renewing`, a part
   * answering `(subscription_id, next_grant_at)` of each live subscription whose next grant is due,
   * read in each round's own statement.
   */
  async expireDue(renewing?: SqlPart): Promise<number> {
    let total = 0;
    for (;;) {
      const round = await this.repo.expireDue(EXPIRY_BATCH, this.config.credits.lowBalanceThresholds, renewing);
      this.moves.committed('expire', round.credits);
      total += round.expired;
      if (round.due < EXPIRY_BATCH) return total;
    }
  }

  /**
   * Usage records corrected in ONE statement (CorrectStatement; a single correction is a batch of
   * one, a re-rate's chunk many): the caller's `records` part locks and reads the records; the
   * credits of those that move are moved at once by credits_correct() under their accounts' locks
   * (one take for what they add; what goes back returns to the lots they were paid from, or as a
   * `correction` allocation of CORRECTION_EXPIRY_DAYS), what went back of records priced at volume
   * steps leaves their periods' totals, and the caller's `writes` run with the shortfalls left open.
   * Each record's row, with the credits it moved on the balance, in the caller's order.
   */
  async correct<R>(
    manager: EntityManager,
    createdBy: string,
    statement: CorrectStatement,
  ): Promise<CorrectedItem<R>[]> {
    const { expiryDays } = this.config.corrections;
    const items = await this.corrections.correct<R>(
      manager,
      { createdBy, expiryDays, ...this.moves.controls() },
      statement,
    );
    this.moves.moved(
      'correction',
      items.reduce((sum, item) => sum + Math.abs(item.moved), 0),
    );
    return items;
  }
}

// The types of the door's statements, so that a caller imports the door alone.
export type { CorrectedItem, CorrectStatement } from './corrections/credit-corrections.repository.js';
export type { HoldRequest, HoldsKey, InsertAfterHold, InsertAfterHolds } from './credit-holds.repository.js';
export type { InsertAfterTake } from './credits.repository.js';
export type { BatchOutcome } from './credits-batch.js';
export type { BatchTakeStatement, GivenCharges } from './credits-batch.repository.js';
export { type Held, holdOf } from './credits-results.js';
export type { SettleManyStatement } from './settlements/credit-settlements.repository.js';
