import { DomainError } from '../common/errors/domain-error.js';
import type { KeyLimitPeriod } from './entities/api-key.entity.js';

/** A key's budget: both set or both null (credit_caps_limit_pair_check: the credits module keeps it). */
export interface KeyBudget {
  creditLimit: number | null;
  limitPeriod: KeyLimitPeriod | null;
}

/**
 * The budget after a change: `creditLimit: null` removes the limit and its period; a limit given to
 * a key without one counts over `total` unless a period comes with it; a period alone changes the
 * period of the key's existing limit. `undefined` leaves a field as it is.
 */
export function budgetAfter(
  current: KeyBudget,
  change: { creditLimit?: number | null; limitPeriod?: KeyLimitPeriod },
): KeyBudget {
  const { creditLimit, limitPeriod } = change;
  if (creditLimit === null) {
    if (limitPeriod !== undefined)
      throw new DomainError('VALIDATION', 'limitPeriod cannot be set with creditLimit: null');
    return { creditLimit: null, limitPeriod: null };
  }
  const limit = creditLimit ?? current.creditLimit;
  if (limit === null) {
    if (limitPeriod !== undefined) throw new DomainError('VALIDATION', 'limitPeriod needs a creditLimit');
    return { creditLimit: null, limitPeriod: null };
  }
  return { creditLimit: limit, limitPeriod: limitPeriod ?? current.limitPeriod ?? 'total' };
}
