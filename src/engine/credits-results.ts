import {
  BudgetExceededError,
  DomainError,
  InsufficientCreditsError,
  KeyLimitExceededError,
  MemberLimitExceededError,
  NotAMemberError,
  NotFoundError,
  SpendRateLimitedError,
} from '../common/errors/domain-error.js';
import type { GivenBack, HeldRow, HoldRequest, HoldSpec, SettlementRow } from './credit-holds.repository.js';
import type { LedgerKind, Settlement } from './credit-views.js';
import type { TakeRow } from './credits.repository.js';

/** The rows of the credits functions as numbers; their refusals as the errors they mean. */

export function checkAmount(amount: number): void {
  if (!Number.isInteger(amount) || amount < 0)
    throw new DomainError('VALIDATION', 'amount must be a non-negative integer');
}

/** What a member's limit stood at when a charge to their organisation was refused (MEMBER_LIMIT_EXCEEDED). */
export interface MemberLimitState {
  limit: number;
  spentInPeriod: number;
  resetsAt: string;
}

/** MEMBER_LIMIT_EXCEEDED for a charge of `amount`, with the member's limit as read after the refusal. */
export function memberLimitError(amount: number, member: MemberLimitState | null): MemberLimitExceededError {
  // A limit removed between the refusal and the read: what was refused is all that is known.
  return new MemberLimitExceededError(
    amount,
    member?.limit ?? 0,
    member?.spentInPeriod ?? 0,
    member?.resetsAt ?? new Date().toISOString(),
  );
}

/**
 * The one take's row (one event) as numbers; a refusal becomes its error (nothing was written). A
 * member's refusals by code, as the batch's (toBatchOutcome): the caller names whose they are and
 * where the member's limit stands (CreditsService.singleRefusal()).
 */
export function takeResult(row: TakeRow, amount: number) {
  switch (row.out_status) {
    case 'not_a_member':
      throw new NotAMemberError('', '');
    case 'member_limit':
      throw memberLimitError(amount, null);
    case 'insufficient':
      throw new InsufficientCreditsError(amount, Number(row.out_available) + Number(row.out_headroom));
    case 'key_limit':
      throw new KeyLimitExceededError(amount);
    case 'budget_exceeded':
      throw budgetExceeded(row.out_parts);
    case 'rate_limited':
      throw new SpendRateLimitedError(row.out_retry_after ?? 3600);
    case 'no_account':
      // An organisation's answers as one the user is not a member of (singleRefusal()): no org-id oracle.
      throw new NotFoundError('User');
    case 'ok':
      return {
        collected: Number(row.out_collected),
        debt: Number(row.out_debt),
        balanceAfter: Number(row.out_balance_after),
      };
  }
}

/** What the take tells of the budget that refused an event (credits_take_events(): its out_parts). */
export interface BudgetRefusal {
  budgetId: string;
  limit: number | string;
  used: number | string;
  held: number | string;
}

/** BUDGET_EXCEEDED from the take's account of the budget that refused. */
export function budgetExceeded(parts: unknown): BudgetExceededError {
  const b = parts as BudgetRefusal;
  return new BudgetExceededError(b.budgetId, Number(b.limit), Number(b.used), Number(b.held));
}

/** credits_settle's row; a refusal becomes its error. */
export function checkSettled(row: SettlementRow): SettlementRow {
  if (row.out_status === 'already_settled')
    throw new DomainError('ALREADY_SETTLED', 'This session’s hold is already settled');
  return row;
}

/** credits_settle's row as numbers (after checkSettled). */
export function toSettlement(row: SettlementRow): Settlement {
  return {
    held: Number(row.out_held),
    kept: Number(row.out_kept),
    refund: Number(row.out_refund),
    collected: Number(row.out_collected),
    debt: Number(row.out_debt),
    shortfall: Number(row.out_shortfall),
  };
}

/** What credits_give_back wrote, by ledger kind. */
export function givenBackByKind(row: GivenBack): [LedgerKind, number][] {
  return [
    ['release', Number(row.out_released)],
    ['expire', Number(row.out_expired)],
    ['void', Number(row.out_voided)],
  ];
}

/** A hold's spec without the spend controls' defaults: its amount and session checked, the key split off the ledger refs. */
export function holdOf(hold: HoldRequest): Omit<HoldSpec, 'rateDefault' | 'thresholds'> {
  if (!hold.refs.sessionId) throw new DomainError('VALIDATION', 'a hold needs a sessionId');
  checkAmount(hold.amount);
  const { apiKeyId, ...refs } = hold.refs;
  return { member: hold.member, amount: hold.amount, refs, apiKeyId, scopes: hold.scopes };
}

/** What a hold answers: its row, or its refusal by code (the caller names whose it is), or null when its key was taken. */
export type Held<R> = { row: R } | { refused: DomainError } | null;

/** A hold statement's outcome for one hold as Held; `taken` throws a refusal, and counts what moved. */
export function heldAnswer<R>(result: HeldRow<R>, taken: (row: TakeRow) => void): Held<R> {
  if (result === 'taken') return null;
  try {
    taken(result);
  } catch (error) {
    if (error instanceof DomainError) return { refused: error };
    throw error;
  }
  return { row: result.row as R };
}
