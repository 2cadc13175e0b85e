import { DomainError } from '../common/errors/domain-error.js';

/** A price as bodies and views hold it: a decimal amount and its ISO 4217 currency. */
export interface Price {
  amount: string;
  currency: string;
}

/**
 * The prices a body gives (docs/selling.md "Prices in several currencies"): `prices`, or the old
 * single `price` as a list of one (null: none); undefined when it gives neither. Both → 400.
 */
export function pricesOfBody(body: { price?: Price | null; prices?: Price[] }): Price[] | undefined {
  if (body.price !== undefined && body.prices !== undefined) {
    throw new DomainError('VALIDATION', 'Give price or prices, not both');
  }
  if (body.prices !== undefined) return body.prices.map((p) => ({ amount: p.amount, currency: p.currency }));
  if (body.price === undefined) return undefined;
  return body.price === null ? [] : [{ amount: body.price.amount, currency: body.price.currency }];
}

export const currencyMismatch = (message: string) => new DomainError('CURRENCY_MISMATCH', message);

/**
 * The price an account pays of `prices` (its first being the default): in the currency the payment
 * names, else the account's billing currency, else the first price's. A named currency other than
 * the account's, or one `prices` has no price in → CURRENCY_MISMATCH (409). Pure: the caller read
 * `billing` under the account lock, or checks it again there.
 */
export function priceFor(prices: readonly Price[], billing: string | null, named?: string): Price {
  if (named !== undefined && billing !== null && named !== billing) {
    throw currencyMismatch(`This account pays in ${billing}, not ${named}`);
  }
  const currency = named ?? billing ?? prices[0]?.currency;
  const price = prices.find((p) => p.currency === currency);
  if (!price) throw currencyMismatch(`No price in ${currency ?? 'any currency'}`);
  return price;
}
