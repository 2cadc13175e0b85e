/**
 * The token kinds the price catalogue prices, derived from the one list (`TOKEN_KINDS`): each kind's
 * price key in the catalogue package, or null where the service reads none (reasoning: the package's
 * `output_reasoning_mtok` is left out, docs/pricing.md "What the catalogue prices, and what it does
 * not", and a reasoning token pays the output's price). A new kind is asked for here (its key, or
 * a place among the kinds the catalogue does not price), and every field, column and price of a
 * catalogue entry follows.
 */
import { type PriceField, priceField, TOKEN_KINDS, tokenColumn, type TokenKind } from '../token-kinds.js';

/** The kinds the catalogue does not price. */
type Uncatalogued = 'reasoning';

/** A kind the catalogue prices. */
export type CatalogKind = Exclude<TokenKind, Uncatalogued>;

/** Each kind's price key in the catalogue package (null: a kind the catalogue does not price). */
export const CATALOG_KEYS: { [K in TokenKind]: K extends CatalogKind ? `${string}_mtok` : null } = {
  input: 'input_mtok',
  output: 'output_mtok',
  cacheRead: 'cache_read_mtok',
  cacheWrite: 'cache_write_mtok',
  reasoning: null,
};

/** The kinds the catalogue prices, in TOKEN_KINDS order. */
export const CATALOG_KINDS: readonly CatalogKind[] = TOKEN_KINDS.filter(
  (kind): kind is CatalogKind => CATALOG_KEYS[kind] !== null,
);

/**
 * A catalogue period's credits per 1k tokens of each kind it prices: input and output always, another
 * kind null where the package gives no price of its own (the input's price applies).
 */
export type CatalogPrices = { [K in CatalogKind]: K extends 'input' | 'output' ? string : string | null };

/** `price(kind)` of every catalogue kind; null when input or output has none (no token price: no entry). */
export function catalogPrices(price: (kind: CatalogKind) => string | null): CatalogPrices | null {
  const prices = Object.fromEntries(CATALOG_KINDS.map((kind) => [kind, price(kind)])) as Record<
    CatalogKind,
    string | null
  >;
  return prices.input === null || prices.output === null ? null : (prices as CatalogPrices);
}

/** The prices of a row that carries more than its prices (an entry, a period). */
export function catalogPricesOf(row: CatalogPrices): CatalogPrices {
  return catalogPrices((kind) => row[kind])!;
}

/** The catalogue's price of any kind in `prices`: null for a kind it does not price, or gives none of. */
export function catalogPriceOf(prices: CatalogPrices, kind: TokenKind): string | null {
  return CATALOG_KEYS[kind] === null ? null : prices[kind as CatalogKind];
}

/** A kind's price column (`price_catalog_prices`, as a rule's): input's `price_per_1k_tokens`, else `cache_read_price_per_1k_tokens`. */
export function catalogPriceColumn(kind: CatalogKind): string {
  return kind === 'input' ? 'price_per_1k_tokens' : tokenColumn(kind).replace(/tokens$/, 'price_per_1k_tokens');
}

/** `prices` under each kind's price field of a rule, a kind without a price of its own left out (its rule's default applies). */
export function catalogPriceFields(
  prices: CatalogPrices,
): { pricePer1kTokens: string } & Partial<Record<PriceField<CatalogKind>, string>> {
  const fields: Partial<Record<PriceField<CatalogKind>, string>> = {};
  for (const kind of CATALOG_KINDS) {
    const price = prices[kind];
    if (price !== null) fields[priceField(kind)] = price;
  }
  return { ...fields, pricePer1kTokens: prices.input };
}
