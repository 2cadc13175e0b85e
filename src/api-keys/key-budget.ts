import { DomainError } from '../common/errors/domain-error.js';
import type { KeyLimitPeriod } from './entities/api-key.entity.js';

/** A key's budget: both set or both null (the table's api_keys_limit_check). */
export interface KeyBudget {
  creditLimit: number | null;
  limitPeriod: KeyLimitPeriod | null;
}

/**
 * When the UTC calendar period containing `now` ends: the next midnight, the next Monday 00:00, the
 * next 1st 00:00; null for `total` (it never resets). The same boundaries as the credit take's
 * `date_trunc(period, now(), 'UTC')`, so the answer is when that function starts counting afresh.
 */
export function periodResetsAt(period: KeyLimitPeriod, now: Date): Date | null {
  const y = now.getUTCFullYear();
  const m = now.getUTCMonth();
  const d = now.getUTCDate();
  switch (period) {
    case 'day':
      return new Date(Date.UTC(y, m, d + 1));
    case 'week':
      // getUTCDay: Sunday 0 … Saturday 6; days left until the next Monday: 1 (Sunday) … 7 (Monday).
      return new Date(Date.UTC(y, m, d + 7 - ((now.getUTCDay() + 6) % 7)));
    case 'month':
      return new Date(Date.UTC(y, m + 1, 1));
    case 'total':
      return null;
  }
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
