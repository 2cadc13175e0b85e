import { describe, expect, it } from 'vitest';

import { DomainError } from '../common/errors/domain-error.js';
import { budgetAfter } from './key-budget.js';

describe('budgetAfter', () => {
  const none = { creditLimit: null, limitPeriod: null };
  const daily = { creditLimit: 100, limitPeriod: 'day' as const };

  it('a limit on a key without one counts over total unless a period is given', () => {
    expect(budgetAfter(none, { creditLimit: 10 })).toEqual({ creditLimit: 10, limitPeriod: 'total' });
    expect(budgetAfter(none, { creditLimit: 10, limitPeriod: 'week' })).toEqual({
      creditLimit: 10,
      limitPeriod: 'week',
    });
  });

  it('a new limit keeps the period; a period alone keeps the limit', () => {
    expect(budgetAfter(daily, { creditLimit: 250 })).toEqual({ creditLimit: 250, limitPeriod: 'day' });
    expect(budgetAfter(daily, { limitPeriod: 'month' })).toEqual({ creditLimit: 100, limitPeriod: 'month' });
    expect(budgetAfter(daily, {})).toEqual(daily);
    expect(budgetAfter(none, {})).toEqual(none);
  });

  it('null removes the limit and its period', () => {
    expect(budgetAfter(daily, { creditLimit: null })).toEqual(none);
    expect(budgetAfter(none, { creditLimit: null })).toEqual(none);
  });

  it('refuses a period without a limit, or with the limit being removed', () => {
    expect(() => budgetAfter(none, { limitPeriod: 'day' })).toThrow(DomainError);
    expect(() => budgetAfter(daily, { creditLimit: null, limitPeriod: 'day' })).toThrow(/creditLimit: null/);
  });
});
