import {
  DomainError,
  InsufficientCreditsError,
  KeyLimitExceededError,
  NotFoundError,
  SpendRateLimitedError,
} from '../common/errors/domain-error.js';
import type { GivenBack, SettlementRow } from './credit-holds.repository.js';
import type { LedgerKind, Settlement } from './credit-views.js';
import type { TakeRow } from './credits.repository.js';

/** The rows of the credits functions as numbers; their refusals as the errors they mean. */

export function checkAmount(amount: number): void {
  if (!Number.isInteger(amount) || amount < 0)
    throw new DomainError('VALIDATION', 'amount must be a non-negative integer');
}

/** credits_take's row as numbers; a refusal becomes its error (nothing was written). */
export function takeResult(row: TakeRow, amount: number) {
  switch (row.out_status) {
    case 'insufficient':
      throw new InsufficientCreditsError(amount, Number(row.out_available) + Number(row.out_headroom));
    case 'key_limit':
      throw new KeyLimitExceededError(amount);
    case 'rate_limited':
      throw new SpendRateLimitedError(row.out_retry_after ?? 3600);
    case 'no_account':
      throw new NotFoundError('User');
    case 'ok':
      return {
        collected: Number(row.out_collected),
        debt: Number(row.out_debt),
        balanceAfter: Number(row.out_balance_after),
      };
  }
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
