import { describe, expect, it } from 'vitest';

import { creditsForRefund, fromCents, fromMinorUnits, shareOfAmount, toCents } from './purchase-money.js';

describe('purchase money', () => {
  it('reads and writes amounts as cents', () => {
    expect(toCents('10')).toBe(1000n);
    expect(toCents('10.5')).toBe(1050n);
    expect(toCents('0.07')).toBe(7n);
    expect(fromCents(1050n)).toBe('10.50');
    expect(fromCents(7n)).toBe('0.07');
  });

  it('quotes a share of the amount rounded down to the cent', () => {
    expect(shareOfAmount(600, 1000, '10.00')).toBe('6.00');
    expect(shareOfAmount(333, 1000, '10.00')).toBe('3.33');
    expect(shareOfAmount(1, 3, '10.00')).toBe('3.33');
    expect(shareOfAmount(2, 3, '10.00')).toBe('6.66');
    // 0.1 + 0.2 in floating point is 0.30000000000000004: none of that here
    expect(shareOfAmount(2_147_483_647, 2_147_483_647, '9999999999.99')).toBe('9999999999.99');
  });

  it('takes back ceil(credits × refunded / amount)', () => {
    expect(creditsForRefund(1000, '4.00', '10.00')).toBe(400);
    expect(creditsForRefund(1000, '3.33', '10.00')).toBe(333);
    expect(creditsForRefund(1000, '0.01', '10.00')).toBe(1);
    expect(creditsForRefund(3, '0.01', '10.00')).toBe(1);
    expect(creditsForRefund(1000, '10.00', '10.00')).toBe(1000);
  });

  it("turns Stripe's minor units into amounts", () => {
    expect(fromMinorUnits(400, 'usd')).toBe('4.00');
    expect(fromMinorUnits(400, 'jpy')).toBe('400.00');
    expect(fromMinorUnits(4010, 'kwd')).toBe('4.01');
  });
});
