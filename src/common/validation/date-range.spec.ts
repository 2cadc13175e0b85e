import { describe, expect, it } from 'vitest';

import { parseDateRange } from './date-range.js';

describe('parseDateRange', () => {
  it('makes a date-only end include its whole UTC day (exclusive next midnight)', () => {
    expect(parseDateRange('2024-03-01', '2024-03-31')).toEqual({
      start: '2024-03-01T00:00:00.000000Z',
      end: '2024-04-01T00:00:00.000Z',
      endInclusive: false,
    });
  });

  it('keeps date-time bounds inclusive and reads zone-less times as UTC', () => {
    expect(parseDateRange('2024-03-01T10:00:00Z', '2024-03-01T10:00:00')).toEqual({
      start: '2024-03-01T10:00:00.000000Z',
      end: '2024-03-01T10:00:00.000000Z',
      endInclusive: true,
    });
  });

  it('accepts open ranges', () => {
    expect(parseDateRange()).toEqual({ start: null, end: null, endInclusive: true });
    expect(parseDateRange(undefined, '2024-01-01').end).toBe('2024-01-02T00:00:00.000Z');
  });

  it('a date-only end of 9999-12-31 is no upper bound (the next midnight is beyond what is stored)', () => {
    expect(parseDateRange('2024-03-01', '9999-12-31')).toMatchObject({ end: null, endInclusive: false });
    expect(parseDateRange(undefined, '9999-12-31T23:59:59Z').end).toBe('9999-12-31T23:59:59.000000Z');
  });

  it.each([
    '2024-02-30',
    'yesterday',
    '2024-1-1',
    '2024-01-01T25:00:00Z',
    '2024-13-01',
    '',
    '1700000000',
    '0000-01-01',
    '2027-326',
    '20271122',
    '2027-W47',
    '+010000-01-01',
    '2024-01-01T10:00:00+24:00',
  ])('rejects %s', (bad) => {
    expect(() => parseDateRange(bad)).toThrow(/startDate/);
    expect(() => parseDateRange(undefined, bad)).toThrow(/endDate/);
  });

  it('rejects a start after the end, but not a start within a date-only end day', () => {
    expect(() => parseDateRange('2024-03-02', '2024-03-01')).toThrow(/after/);
    expect(() => parseDateRange('2024-03-01T00:00:01Z', '2024-03-01T00:00:00Z')).toThrow(/after/);
    expect(parseDateRange('2024-03-01T23:59:59Z', '2024-03-01').endInclusive).toBe(false);
  });
});
