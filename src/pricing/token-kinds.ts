/**
 * The kinds of tokens LLM providers bill apart (docs/money.md "Units and arithmetic"): the one list every field,
 * column, mapper, bound, export and screen of a per-kind count is derived from. A new kind is one entry here,
 * its side (KIND_SIDE) and whether only a model's rule prices it (MODEL_ONLY_KINDS), plus each
 * `Record<TokenKind, …>` the compiler then asks for (its price default, its provider mappings, its
 * docs), its migration and the entity and DTO columns that test/unit/token-kinds.spec.ts holds to the
 * list (docs/architecture.md "Token kinds: one list").
 */
export const TOKEN_KINDS = ['input', 'output', 'cacheRead', 'cacheWrite', 'reasoning'] as const;
export type TokenKind = (typeof TOKEN_KINDS)[number];

/**
 * The side of a call a kind counts on: the prompt (what the model reads) or the completion (what it
 * writes). The long-context threshold counts the prompt; the gateway bounds each side apart and holds
 * each bound at its side's dearest kind.
 */
export const KIND_SIDE: Record<TokenKind, 'prompt' | 'completion'> = {
  input: 'prompt',
  output: 'completion',
  cacheRead: 'prompt',
  cacheWrite: 'prompt',
  reasoning: 'completion',
};
/** The prompt's kinds, in TOKEN_KINDS order (`input` first). */
export const PROMPT_KINDS: readonly TokenKind[] = TOKEN_KINDS.filter((kind) => KIND_SIDE[kind] === 'prompt');
/** The completion's kinds, in TOKEN_KINDS order (`output` first). */
export const COMPLETION_KINDS: readonly TokenKind[] = TOKEN_KINDS.filter((kind) => KIND_SIDE[kind] === 'completion');

/** `cacheRead` → `cache_read`. */
type Snake<S extends string> = S extends `${infer H}${infer T}`
  ? `${H extends Lowercase<H> ? H : `_${Lowercase<H>}`}${Snake<T>}`
  : S;

/** A kind's count in a request or an answer: `cacheReadTokens`. */
export type TokenField<K extends TokenKind = TokenKind> = `${K}Tokens`;
/** A kind's count in a table: `cache_read_tokens`. */
export type TokenColumn<K extends TokenKind = TokenKind> = `${Snake<K>}_tokens`;

/** One value per kind field (`{ inputTokens: V, …, reasoningTokens: V }`). */
export type TokenFields<V> = { [K in TokenKind as TokenField<K>]: V };
/** One value per kind column (`{ input_tokens: V, …, reasoning_tokens: V }`). */
export type TokenColumns<V> = { [K in TokenKind as TokenColumn<K>]: V };

export function tokenField<K extends TokenKind>(kind: K): TokenField<K> {
  return `${kind}Tokens`;
}

/** Each kind's column, worked out once (the metered debit's mappers ask for it per record). */
const COLUMN_OF = new Map<TokenKind, string>(
  TOKEN_KINDS.map((kind) => [kind, `${kind.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)}_tokens`]),
);

export function tokenColumn<K extends TokenKind>(kind: K): TokenColumn<K> {
  return COLUMN_OF.get(kind) as TokenColumn<K>;
}

/** Every kind's field, in TOKEN_KINDS order. */
export const TOKEN_FIELDS: readonly TokenField[] = TOKEN_KINDS.map(tokenField);
/** Every kind's column, in TOKEN_KINDS order. */
export const TOKEN_COLUMNS: readonly TokenColumn[] = TOKEN_KINDS.map(tokenColumn);

/** `value(kind)` for every kind. */
export function perKind<V>(value: (kind: TokenKind) => V): Record<TokenKind, V> {
  return Object.fromEntries(TOKEN_KINDS.map((kind) => [kind, value(kind)])) as Record<TokenKind, V>;
}

/** `value(kind)` under each of `names` (one per kind, in TOKEN_KINDS order). A plain loop: records map every kind on the metered debit's path. */
function perName<V>(names: readonly string[], value: (kind: TokenKind) => V): Record<string, V> {
  const out: Record<string, V> = {};
  for (let i = 0; i < TOKEN_KINDS.length; i++) out[names[i]] = value(TOKEN_KINDS[i]);
  return out;
}

/** `value(kind)` under every kind's field. */
export function perField<V>(value: (kind: TokenKind) => V): TokenFields<V> {
  return perName(TOKEN_FIELDS, value) as TokenFields<V>;
}

/** `value(kind)` under every kind's column. */
export function perColumn<V>(value: (kind: TokenKind) => V): TokenColumns<V> {
  return perName(TOKEN_COLUMNS, value) as TokenColumns<V>;
}

/** `field(kind)` of every kind joined by `, ` in TOKEN_KINDS order: a column or value list of SQL. */
export function kindList(field: (kind: TokenKind) => string): string {
  return TOKEN_KINDS.map(field).join(', ');
}

/** A kind's price in a rule: input's is the base price (`pricePer1kTokens`), else `cacheReadPricePer1kTokens`. */
export type PriceField<K extends TokenKind = TokenKind> = K extends 'input'
  ? 'pricePer1kTokens'
  : `${K}PricePer1kTokens`;
/** A kind's provider cost in a rule: input's is `providerCostPer1kTokens`, else `providerCacheReadCostPer1kTokens`. */
export type CostField<K extends TokenKind = TokenKind> = K extends 'input'
  ? 'providerCostPer1kTokens'
  : `provider${Capitalize<K>}CostPer1kTokens`;

export function priceField<K extends TokenKind>(kind: K): PriceField<K> {
  return (kind === 'input' ? 'pricePer1kTokens' : `${kind}PricePer1kTokens`) as PriceField<K>;
}

export function costField<K extends TokenKind>(kind: K): CostField<K> {
  const name = kind === 'input' ? '' : `${kind.charAt(0).toUpperCase()}${kind.slice(1)}`;
  return `provider${name}CostPer1kTokens` as CostField<K>;
}

/** `value(kind)` under every kind's price field. */
export function perPriceField<V>(value: (kind: TokenKind) => V): { [K in TokenKind as PriceField<K>]: V } {
  return perName(TOKEN_KINDS.map(priceField), value) as { [K in TokenKind as PriceField<K>]: V };
}

/** `value(kind)` under every kind's provider cost field. */
export function perCostField<V>(value: (kind: TokenKind) => V): { [K in TokenKind as CostField<K>]: V } {
  return perName(TOKEN_KINDS.map(costField), value) as { [K in TokenKind as CostField<K>]: V };
}

/** Σ `count(kind)` over `kinds` (every kind unless told): the prompt's tokens, a total. */
export function sumOf(count: (kind: TokenKind) => number, kinds: readonly TokenKind[] = TOKEN_KINDS): number {
  let sum = 0;
  for (const kind of kinds) sum += count(kind);
  return sum;
}

/**
 * Kinds only a model's rule prices apart: a record that gives them needs a `modelId` (input and
 * output alone may be metered with `credits` or the default price).
 */
export const MODEL_ONLY_KINDS: Record<TokenKind, boolean> = {
  input: false,
  output: false,
  cacheRead: true,
  cacheWrite: true,
  reasoning: true,
};
