import { describe, expect, it } from 'vitest';

import { DomainError } from '../common/errors/domain-error.js';
import { budgetAfter, periodResetsAt } from './key-budget.js';

const at = (iso: string) => new Date(iso);
const resets = (period: Parameters<typeof periodResetsAt>[0], now: string) =>
  periodResetsAt(period, at(now))?.toISOString() ?? null;

describe('periodResetsAt', () => {
  it('day: the next UTC midnight, from the first to the last millisecond of the day', () => {
    expect(resets('day', '2026-11-22T00:00:00.000Z')).toBe('2026-11-23T00:00:00.000Z');
    expect(resets('day', '2026-11-22T13:31:08.123Z')).toBe('2026-11-23T00:00:00.000Z');
    expect(resets('day', '2026-11-22T23:59:59.999Z')).toBe('2026-11-23T00:00:00.000Z');
  });

  it('day: across month and year ends, and on a leap day', () => {
    expect(resets('day', '2026-11-30T12:00:00Z')).toBe('2026-12-01T00:00:00.000Z');
    expect(resets('day', '2026-12-31T23:00:00Z')).toBe('2027-01-01T00:00:00.000Z');
    expect(resets('day', '2028-02-28T10:00:00Z')).toBe('2028-02-29T00:00:00.000Z');
    expect(resets('day', '2028-02-29T10:00:00Z')).toBe('2028-03-01T00:00:00.000Z');
  });

  it('week: the next Monday 00:00 UTC, from every day of the week', () => {
    // 2026-11-16 is a Monday.
    const days = ['16', '17', '18', '19', '20', '21', '22'].map((d) => resets('week', `2026-11-${d}T08:00:00Z`));
    expect(days).toEqual(Array(7).fill('2026-11-23T00:00:00.000Z'));
    expect(resets('week', '2026-11-16T00:00:00.000Z')).toBe('2026-11-23T00:00:00.000Z');
  });

  it('week: Sunday late → Monday, also across a year end', () => {
    expect(resets('week', '2026-11-22T23:59:59.999Z')).toBe('2026-11-23T00:00:00.000Z');
    // 2026-12-31 is a Thursday; the week ends on Monday 2027-01-04.
    expect(resets('week', '2026-12-31T12:00:00Z')).toBe('2027-01-04T00:00:00.000Z');
    expect(resets('week', '2028-02-27T12:00:00Z')).toBe('2028-02-28T00:00:00.000Z');
  });

  it('week: a time zone offset in the input does not matter, only the UTC instant', () => {
    // Monday 01:00 in +02:00 is Sunday 23:00 UTC.
    expect(resets('week', '2026-11-23T01:00:00+02:00')).toBe('2026-11-23T00:00:00.000Z');
  });

  it('month: the next 1st 00:00 UTC; December → January; February in leap and common years', () => {
    expect(resets('month', '2026-11-01T00:00:00.000Z')).toBe('2026-12-01T00:00:00.000Z');
    expect(resets('month', '2026-11-30T23:59:59.999Z')).toBe('2026-12-01T00:00:00.000Z');
    expect(resets('month', '2026-12-15T00:00:00Z')).toBe('2027-01-01T00:00:00.000Z');
    expect(resets('month', '2028-02-29T23:00:00Z')).toBe('2028-03-01T00:00:00.000Z');
    expect(resets('month', '2027-02-28T23:00:00Z')).toBe('2027-03-01T00:00:00.000Z');
    expect(resets('month', '2027-01-31T12:00:00Z')).toBe('2027-02-01T00:00:00.000Z');
  });

  it('total: never', () => {
    expect(resets('total', '2026-11-22T12:00:00Z')).toBeNull();
  });
});

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
