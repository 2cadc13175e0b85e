import { describe, expect, it } from 'vitest';

import { fromStripeAmount, stripeDecimals, toStripeAmount } from './stripe-amounts.js';

describe("Stripe's amounts", () => {
  it('counts in the unit Stripe uses for the currency', () => {
    expect(stripeDecimals('usd')).toBe(2);
    expect(stripeDecimals('jpy')).toBe(0);
    expect(stripeDecimals('kwd')).toBe(3);
    // ISO gives these another number of places than Stripe's unit has
    expect(stripeDecimals('mga')).toBe(0);
    expect(stripeDecimals('isk')).toBe(2);
  });

  it('turns Stripe’s integers into amounts in the currency’s minor places, exactly', () => {
    expect(fromStripeAmount(400, 'usd')).toBe('4.00');
    expect(fromStripeAmount(400, 'jpy')).toBe('400');
    expect(fromStripeAmount(4010, 'kwd')).toBe('4.010');
    expect(fromStripeAmount(1005, 'kwd')).toBe('1.005');
    expect(fromStripeAmount(1005, 'bhd')).toBe('1.005');
    expect(fromStripeAmount(7, 'mga')).toBe('7.00');
    expect(fromStripeAmount(500, 'isk')).toBe('5');
    // iqd has 3 places in ISO 4217 and none of Stripe's special units: hundredths
    expect(fromStripeAmount(125, 'iqd')).toBe('1.250');
    expect(fromStripeAmount(0, 'usd')).toBe('0.00');
  });

  it('refuses what has no exact amount', () => {
    expect(fromStripeAmount(550, 'isk')).toBeNull();
    expect(fromStripeAmount(100, 'xxx')).toBeNull();
    expect(fromStripeAmount(1.5, 'usd')).toBeNull();
  });

  it('turns amounts into Stripe’s integers, or null when Stripe cannot charge them exactly', () => {
    expect(toStripeAmount('10.00', 'usd')).toBe(1000);
    expect(toStripeAmount('0.07', 'usd')).toBe(7);
    expect(toStripeAmount('1500', 'jpy')).toBe(1500);
    expect(toStripeAmount('1.010', 'kwd')).toBe(1010);
    expect(toStripeAmount('5', 'isk')).toBe(500);
    expect(toStripeAmount('7.00', 'mga')).toBe(7);
    // three-decimal charges and refunds end in 0; mga has no fraction in Stripe's unit
    expect(toStripeAmount('1.005', 'kwd')).toBeNull();
    expect(toStripeAmount('0.502', 'jod')).toBeNull();
    expect(toStripeAmount('7.50', 'mga')).toBeNull();
  });

  it('goes there and back for every amount Stripe can charge', () => {
    for (const [amount, currency] of [
      ['10.00', 'usd'],
      ['1500', 'jpy'],
      ['1.010', 'kwd'],
      ['5', 'isk'],
      ['7.00', 'mga'],
      ['1.250', 'iqd'],
    ]) {
      expect(fromStripeAmount(toStripeAmount(amount, currency)!, currency)).toBe(amount);
    }
  });
});
