import type { EnvReader } from './env-reader.js';

/** The catalogue providers tried in order when PRICE_CATALOG_PROVIDERS is not set. */
export const DEFAULT_CATALOG_PROVIDERS = ['openai', 'anthropic', 'google', 'mistral', 'deepseek', 'x-ai', 'groq'];

/** The price catalogue (docs/pricing.md "The price catalogue"). */
export interface CatalogConfig {
  /** PRICE_CATALOG: models without a rule are priced from the catalogue (default on). */
  enabled: boolean;
  /** PRICE_CATALOG_PROVIDERS: the catalogue's providers that price, tried in this order. */
  providers: string[];
  /** CREDITS_PER_USD: credits a US dollar of catalogue price is worth (default 1000: a credit is $0.001). */
  creditsPerUsd: number;
  /** PRICE_MARKUP_PERCENT: added on every catalogue price, at most 2 places (default 0). */
  markupPercent: string;
}

export function catalogConfig(read: EnvReader): CatalogConfig {
  const providers = (read.raw('PRICE_CATALOG_PROVIDERS') ?? DEFAULT_CATALOG_PROVIDERS.join(','))
    .split(',')
    .map((p) => p.trim().toLowerCase())
    .filter((p) => p !== '');
  if (providers.length === 0 || providers.some((p) => !/^[a-z0-9][a-z0-9._-]{0,49}$/.test(p))) {
    read.problems.push('PRICE_CATALOG_PROVIDERS must be a comma list of catalogue provider ids (openai,anthropic,…)');
  }
  const markup = read.raw('PRICE_MARKUP_PERCENT') ?? '0';
  if (!/^\d{1,4}(\.\d{1,2})?$/.test(markup)) {
    read.problems.push(`PRICE_MARKUP_PERCENT must be a non-negative percent with at most 2 places (got "${markup}")`);
  }
  return {
    enabled: read.bool('PRICE_CATALOG', true),
    providers,
    creditsPerUsd: read.int('CREDITS_PER_USD', 1000, 1, 1_000_000_000),
    markupPercent: /^\d{1,4}(\.\d{1,2})?$/.test(markup) ? markup : '0',
  };
}

export function decimalPrice(read: EnvReader, name: string, fallback: string): string {
  const value = read.raw(name) ?? fallback;
  if (!/^\d{1,6}(\.\d{1,4})?$/.test(value)) {
    read.problems.push(`${name} must be a non-negative decimal with at most 4 places (got "${value}")`);
    return fallback;
  }
  return value;
}
