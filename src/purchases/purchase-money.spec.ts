import { describe, expect, it } from 'vitest';

import { amountIn, creditsForRefund, placesFit, shareOfAmount } from './purchase-money.js';

describe('purchase money', () => {
  it('shows a stored amount in its currency’s minor places', () => {
    expect(amountIn('10.0000', 'usd')).toBe('10.00');
    expect(amountIn('1500.0000', 'jpy')).toBe('1500');
    expect(amountIn('1.0050', 'kwd')).toBe('1.005');
    expect(amountIn('0.5', 'kwd')).toBe('0.500');
    expect(amountIn('9999999999.9999', 'clf')).toBe('9999999999.9999');
  });

  it('fits an amount to its currency’s places, never cutting one', () => {
    expect(placesFit('0.502', 'kwd')).toBe(true);
    expect(placesFit('0.5025', 'kwd')).toBe(false);
    expect(placesFit('4.00', 'usd')).toBe(true);
    expect(placesFit('4.005', 'usd')).toBe(false);
    expect(placesFit('500', 'jpy')).toBe(true);
    expect(placesFit('0.5', 'jpy')).toBe(false);
  });

  it('quotes a share of the amount rounded down to the minor unit', () => {
    expect(shareOfAmount(600, 1000, '10.00', 'usd')).toBe('6.00');
    expect(shareOfAmount(333, 1000, '10.00', 'usd')).toBe('3.33');
    expect(shareOfAmount(1, 3, '10.00', 'usd')).toBe('3.33');
    expect(shareOfAmount(2, 3, '10.00', 'usd')).toBe('6.66');
    expect(shareOfAmount(500, 1000, '1.005', 'kwd')).toBe('0.502');
    expect(shareOfAmount(1, 3, '1000', 'jpy')).toBe('333');
    // 0.1 + 0.2 in floating point is 0.30000000000000004: none of that here
    expect(shareOfAmount(2_147_483_647, 2_147_483_647, '9999999999.99', 'usd')).toBe('9999999999.99');
  });

  it('takes back ceil(credits × refunded / amount)', () => {
    expect(creditsForRefund(1000, '4.00', '10.00', 'usd')).toBe(400);
    expect(creditsForRefund(1000, '3.33', '10.00', 'usd')).toBe(333);
    expect(creditsForRefund(1000, '0.01', '10.00', 'usd')).toBe(1);
    expect(creditsForRefund(3, '0.01', '10.00', 'usd')).toBe(1);
    expect(creditsForRefund(1000, '10.00', '10.00', 'usd')).toBe(1000);
    expect(creditsForRefund(1000, '0.502', '1.005', 'kwd')).toBe(500);
    expect(creditsForRefund(1000, '0.001', '1.005', 'kwd')).toBe(1);
    expect(creditsForRefund(100, '1', '3', 'jpy')).toBe(34);
  });
});
