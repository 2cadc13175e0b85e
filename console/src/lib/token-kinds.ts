import type {
  AccountPriceResponseDto,
  CatalogPricesDto,
  PricingRuleResponseDto,
  TokensByKindDto,
} from '../api/generated';

/**
 * The token kinds, in the service's order: the console's copy of the service's one list
 * (`TOKEN_KINDS`, src/pricing/token-kinds.ts), which test/unit/token-kinds.spec.ts holds equal to it,
 * sides and all. The type below fails to compile when openapi.json names a kind this list lacks. Every
 * screen that shows, prices or edits a count or a price per kind derives from it.
 */
export const TOKEN_KINDS = [
  'input',
  'output',
  'cacheRead',
  'cacheWrite',
  'reasoning',
] as const satisfies readonly (keyof TokensByKindDto)[];
export type TokenKind = (typeof TOKEN_KINDS)[number];

type Missing = Exclude<keyof TokensByKindDto, TokenKind>;
export const everyKindListed: [Missing] extends [never] ? true : Missing = true;

/**
 * Each kind's name on screen (`cache read`; `in`/`out` where counts stand side by side) and its side:
 * the prompt (what the model reads) or the completion (what it writes), as the service's `KIND_SIDE`.
 * A kind without its own price costs its side's first kind's (cache reads the input's, reasoning
 * the output's), and output the input's.
 */
export const KINDS: Record<TokenKind, { name: string; short: string; side: 'prompt' | 'completion' }> = {
  input: { name: 'input', short: 'in', side: 'prompt' },
  output: { name: 'output', short: 'out', side: 'completion' },
  cacheRead: { name: 'cache read', short: 'cache read', side: 'prompt' },
  cacheWrite: { name: 'cache write', short: 'cache write', side: 'prompt' },
  reasoning: { name: 'reasoning', short: 'reasoning', side: 'completion' },
};

/** `cache read` → `Cache read` (a column's label). */
export const kindTitle = (kind: TokenKind) => KINDS[kind].name.charAt(0).toUpperCase() + KINDS[kind].name.slice(1);

/** A kind's price field in a form: `Cache-read price per 1k`. */
export const priceLabel = (kind: TokenKind) => `${kindTitle(kind).replace(' ', '-')} price per 1k`;

/** A kind's count in a record: `cacheReadTokens`. */
export const tokenField = <K extends TokenKind>(kind: K) => `${kind}Tokens` as const;

/** A kind's price in a rule or an account price: input's is the base price, `pricePer1kTokens`. */
export type PriceField = 'pricePer1kTokens' | `${Exclude<TokenKind, 'input'>}PricePer1kTokens`;
export function priceField(kind: TokenKind): PriceField & keyof PricingRuleResponseDto & keyof AccountPriceResponseDto {
  return kind === 'input' ? 'pricePer1kTokens' : `${kind}PricePer1kTokens`;
}

/** The kind whose price a kind without its own costs: none for input, input for output, else its side's first. */
export function inheritsFrom(kind: TokenKind): TokenKind | null {
  if (kind === 'input') return null;
  if (kind === 'output') return 'input';
  return TOKEN_KINDS.find((k) => KINDS[k].side === KINDS[kind].side)!;
}

/** The kinds of a side, in the list's order. */
export const kindsOf = (side: 'prompt' | 'completion'): TokenKind[] =>
  TOKEN_KINDS.filter((k) => KINDS[k].side === side);

/** A kind the price catalogue prices: one with a price of its own in the API's `CatalogPricesDto`. */
export type CatalogKind = Extract<TokenKind, keyof CatalogPricesDto>;

/** Whether the catalogue prices each kind, as the service's `CATALOG_KEYS`; the API's catalogue prices decide which. */
export const CATALOGUED: { [K in TokenKind]: K extends CatalogKind ? true : false } = {
  input: true,
  output: true,
  cacheRead: true,
  cacheWrite: true,
  reasoning: false,
};

/** The kinds the catalogue prices, in the list's order. */
export const CATALOG_KINDS: CatalogKind[] = TOKEN_KINDS.filter((k): k is CatalogKind => CATALOGUED[k]);
