/**
 * Exact money in three currencies of different minor places, for test/currencies-property.e2e-spec.ts:
 * minor units as BigInt, decimals parsed and written without floating point, and the conversion into
 * the reporting currency as docs/finance.md "Converting, line by line" states it.
 */
export const PLACES = { usd: 2, jpy: 0, kwd: 3 } as const;
export type Currency = keyof typeof PLACES;
export const CURRENCIES = Object.keys(PLACES) as Currency[];

/** The figures of a roll-forward period that bring money in and take it out (docs/finance.md). */
export const INFLOWS = ['purchased', 'sold', 'transferredIn'] as const;
export const OUTFLOWS = ['recognized', 'expired', 'refunded', 'chargedBack', 'voided', 'transferredOut'] as const;

/** A ledger category as the roll-forward shows it: the figure it counts in, and the sign it has there. */
export const FIGURE_OF: Record<string, [figure: string, sign: bigint]> = {
  purchased: ['purchased', 1n],
  sold: ['sold', 1n],
  transferred_in: ['transferredIn', 1n],
  recognized: ['recognized', -1n],
  corrected: ['recognized', -1n],
  expired: ['expired', -1n],
  refunded: ['refunded', -1n],
  charged_back: ['chargedBack', -1n],
  voided: ['voided', -1n],
  transferred_out: ['transferredOut', -1n],
};

/**
 * A decimal string as minor units of `currency`: digits beyond its places must be zeros (a purchase
 * shows "30.00" jpy). `shown` asks for exactly its places, as the finance views write money.
 */
export function minorOf(text: string, currency: Currency, shown = false): bigint {
  const match = /^(-?)(\d+)(?:\.(\d+))?$/.exec(text);
  if (!match) throw new Error(`"${text}" is not a decimal`);
  const [, sign, whole, fraction = ''] = match;
  const places = PLACES[currency];
  if (shown && fraction.length !== places) throw new Error(`"${text}" is not in the ${places} places of ${currency}`);
  if (/[1-9]/.test(fraction.slice(places))) throw new Error(`"${text}" has more than ${places} places of ${currency}`);
  const value = BigInt(whole + fraction.slice(0, places).padEnd(places, '0'));
  return sign === '-' ? -value : value;
}

/** Minor units as a purchase's or a package's amount: at most 2 places, where they are stored. */
export function purchaseAmount(minor: bigint, currency: Currency): string {
  const places = Math.min(PLACES[currency], 2);
  const cut = 10n ** BigInt(PLACES[currency] - places);
  if (minor % cut !== 0n) throw new Error(`${minor} ${currency} needs more than 2 places`);
  const digits = (minor / cut).toString().padStart(places + 1, '0');
  return places === 0 ? digits : `${digits.slice(0, -places)}.${digits.slice(-places)}`;
}

/**
 * Money a purchase's answer shows (a refund's `amount`, the refundable quote) against the `exact`
 * minor units its ledger line took. Purchases keep amounts in 2 places (numeric(12,2)), and
 * `amountOfMinor()` cuts a 3-place currency's money to the cent: 1 of 3 credits bought for 0.07 kwd
 * refunds 0.023 kwd in the ledger and answers "0.02". Until purchases keep 3 places that cut is
 * accepted for 3-place currencies only (the spec counts it as `cutToCent`); 0 and 2 places are exact.
 */
export function shownMoney(text: string, currency: Currency, exact: bigint): boolean {
  const cut = 10n ** BigInt(Math.max(PLACES[currency] - 2, 0));
  const shown = minorOf(text, currency);
  return shown === exact || shown === exact - (exact % cut);
}

/** The money `credits` of a lot with `remaining` credits and `value` minor units left take: floor(V × n / R), all at n = R. */
export const shareOf = (value: bigint, credits: number, remaining: number): bigint =>
  credits >= remaining ? value : (value * BigInt(credits)) / BigInt(remaining);

/**
 * round(v × rate × 10^(2 − places)) into usd cents, half away from zero: the conversion of one
 * ledger line (docs/finance.md "Converting, line by line"). usd's own lines are taken as they are.
 */
export function toUsdCents(minor: bigint, currency: Currency, rate: string | undefined): bigint {
  if (currency === 'usd') return minor;
  if (rate === undefined) throw new Error(`no ${currency} rate for a line of ${minor}`);
  const [whole, fraction = ''] = rate.split('.');
  let num = minor * BigInt(whole + fraction);
  let den = 10n ** BigInt(fraction.length);
  const shift = 2 - PLACES[currency];
  if (shift >= 0) num *= 10n ** BigInt(shift);
  else den *= 10n ** BigInt(-shift);
  const abs = num < 0n ? -num : num;
  const rounded = abs / den + ((abs % den) * 2n >= den ? 1n : 0n);
  return num < 0n ? -rounded : rounded;
}

/** The identity of a period's figures, in minor units: opening + in − out − closing (0 when it holds). */
export function identityGap(figures: Record<string, string>, currency: Currency): bigint {
  const m = (key: string) => minorOf(figures[key], currency, true);
  const inflow = INFLOWS.reduce((s, k) => s + m(k), 0n);
  const outflow = OUTFLOWS.reduce((s, k) => s + m(k), 0n);
  return m('opening') + inflow - outflow - m('closing');
}
