import { randomInt } from 'node:crypto';

import { minorUnits } from '../../src/common/money/currencies.js';

/** Codes specs price in by name (purchases, values, plans): never drawn. */
const NAMED = new Set(['usd', 'eur', 'gbp', 'jpy', 'kwd']);

/**
 * ISO 4217 codes of 2 minor places whose first letter is in [first, last], none a spec names. Spec
 * files share the database, and packages put a floor under their currency's purchases: a spec that
 * sells packages draws its currencies from a range of first letters no other spec draws from.
 */
export function twoPlaceCurrencies(first: string, last: string): string[] {
  const codes: string[] = [];
  for (let a = first.charCodeAt(0); a <= last.charCodeAt(0); a++) {
    for (let b = 97; b <= 122; b++) {
      for (let c = 97; c <= 122; c++) {
        const code = String.fromCharCode(a, b, c);
        if (minorUnits(code) === 2 && !NAMED.has(code)) codes.push(code);
      }
    }
  }
  return codes;
}

/** A drawer of codes from `codes`, at random and never the same twice. */
export function currencyDrawer(codes: string[]): () => string {
  const left = [...codes];
  return () => {
    if (left.length === 0) throw new Error('no currency left to draw');
    return left.splice(randomInt(left.length), 1)[0];
  };
}
