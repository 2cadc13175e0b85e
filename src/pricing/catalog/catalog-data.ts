/**
 * The installed price catalogue (`@pydantic/genai-prices`): its version and its providers' models as
 * the package bundles them. Read from the installed package only: its own update mechanism, which
 * fetches newer data over the network, is never called (docs/pricing.md "The price catalogue").
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

import { type ModelInfo, type ModelPrice, type Provider, waitForUpdate } from '@pydantic/genai-prices';

import { formatPrice } from '../price-text.js';
import { CATALOG_KEYS, type CatalogPrices, catalogPrices } from './catalog-kinds.js';
import type { MatchLogic } from './catalog-match.js';

/** The package's name, as the catalogue's version names it (`@pydantic/genai-prices@0.1.8`). */
export const CATALOG_PACKAGE = '@pydantic/genai-prices';

/** The installed package's version (its package.json). */
export function installedCatalogVersion(): string {
  const require = createRequire(import.meta.url);
  const main = require.resolve(CATALOG_PACKAGE);
  // dist/index.cjs → the package's root.
  const manifest = JSON.parse(readFileSync(path.join(path.dirname(main), '..', 'package.json'), 'utf8')) as {
    version: string;
  };
  return manifest.version;
}

/** Every provider the installed package bundles (its data as loaded; no update was ever asked for). */
export async function installedProviders(): Promise<Provider[]> {
  return (await waitForUpdate()) ?? [];
}

/** A catalogue model's credit prices per 1k tokens over one period of its own start dates. */
export interface CatalogEntry extends CatalogPrices {
  provider: string;
  catalogModel: string;
  name: string | null;
  position: number;
  match: MatchLogic;
  contextWindow: number | null;
  validFrom: Date;
  validTo: Date | null;
  longContext: { threshold: number; input: string; output: string } | null;
}

/** Before every catalogue start date: the first period of a model starts here. */
export const CATALOG_EPOCH = new Date('1970-01-01T00:00:00.000Z');

/** The conversion of USD prices to credits: CREDITS_PER_USD and PRICE_MARKUP_PERCENT. */
export interface Conversion {
  creditsPerUsd: number;
  markupPercent: string;
}

/** A JSON number as an exact decimal: mantissa × 10^-places. */
function decimal(n: number): { mantissa: bigint; places: number } {
  const [digits, exponent = '0'] = String(n).toLowerCase().split('e');
  const [whole, fraction = ''] = digits.split('.');
  const places = fraction.length - Number(exponent);
  const mantissa = BigInt(whole + fraction);
  return places >= 0 ? { mantissa, places } : { mantissa: mantissa * 10n ** BigInt(-places), places: 0 };
}

/** The markup as a factor in hundredths of a percent: "12.5" → 11250n (100 % + 12.5 %). */
function markupFactor(markupPercent: string): bigint {
  const [whole, fraction = ''] = markupPercent.split('.');
  return 10_000n + BigInt(whole) * 100n + BigInt(fraction.padEnd(2, '0'));
}

/**
 * USD per million tokens → credits per 1,000 tokens at the conversion, to 10 places (half up where a
 * price would need more; none of today's does), or null beyond the largest price (999,999.9999999999).
 */
export function creditsPer1k(usdPerMillion: number, conversion: Conversion): string | null {
  if (!Number.isFinite(usdPerMillion) || usdPerMillion < 0) return null;
  const { mantissa, places } = decimal(usdPerMillion);
  // mantissa / 10^places USD per 1M tokens = mantissa × credits × markup / (10^places × 1000 × 10^4) per 1k.
  const numerator = mantissa * BigInt(conversion.creditsPerUsd) * markupFactor(conversion.markupPercent) * 10n ** 10n;
  const denominator = 10n ** BigInt(places) * 1000n * 10_000n;
  const scaled = (numerator * 2n + denominator) / (denominator * 2n);
  return scaled >= 1_000_000n * 10n ** 10n ? null : formatPrice(scaled);
}

/**
 * The catalogue's price keys the service prices from: input and output (their first tier as the
 * long-context tier), cache read and write (their base price). docs/pricing.md "What the catalogue
 * prices, and what it does not" says why each key of UNPRICED_KEYS is left out.
 */
export const PRICED_KEYS = ['input_mtok', 'output_mtok', 'cache_read_mtok', 'cache_write_mtok'] as const;

/** The catalogue's price keys never read: a price under one of them charges nothing of its own. */
export const UNPRICED_KEYS = [
  'cache_write_1h_mtok',
  'output_reasoning_mtok',
  'input_audio_mtok',
  'output_audio_mtok',
  'cache_audio_read_mtok',
  'input_image_mtok',
  'output_image_mtok',
  'cache_image_read_mtok',
  'input_video_mtok',
  'output_video_mtok',
  'output_citation_mtok',
  'web_searches_kcount',
  'storage_searches_kcount',
  'requests_kcount',
  'input_text_messages_kcount',
  'input_document_kpages',
  'input_annotated_document_kpages',
  'audio_hours',
  'input_audio_hours',
] as const;

type PriceValue = ModelPrice[string];

function base(value: PriceValue): number | undefined {
  if (value === undefined) return undefined;
  return typeof value === 'number' ? value : value.base;
}

function tier(value: PriceValue): { start: number; price: number } | undefined {
  return typeof value === 'object' && value.tiers.length > 0 ? value.tiers[0] : undefined;
}

/**
 * A model's price periods: [{from, prices}] by its start dates (prices with a time-of-day constraint,
 * an off-peak discount, are left out: the standard price applies all day).
 */
function periods(model: ModelInfo): { from: Date; prices: ModelPrice }[] {
  if (!Array.isArray(model.prices)) return [{ from: CATALOG_EPOCH, prices: model.prices }];
  const out: { from: Date; prices: ModelPrice }[] = [];
  for (const conditional of model.prices) {
    const constraint = conditional.constraint;
    if (constraint === undefined) out.push({ from: CATALOG_EPOCH, prices: conditional.prices });
    else if (constraint.type === 'start_date')
      out.push({ from: new Date(constraint.start_date), prices: conditional.prices });
  }
  out.sort((a, b) => a.from.getTime() - b.from.getTime());
  if (out.length > 0) out[0] = { ...out[0], from: CATALOG_EPOCH };
  return out;
}

/**
 * Every token-priced model of the providers as catalogue entries in credits: input and output
 * (absent output: 0), cache read and write (absent: the input price applies), a tier above a prompt
 * size as the long-context tier (the first tier; output at its own tier, else its base price).
 * Models without a token price (images by the piece, audio by the hour) are left out.
 */
export function catalogEntries(providers: readonly Provider[], conversion: Conversion): CatalogEntry[] {
  const entries: CatalogEntry[] = [];
  for (const provider of providers) {
    provider.models.forEach((model, position) => {
      const list = periods(model);
      list.forEach(({ from, prices }, i) => {
        const price = (value: number | undefined) => (value === undefined ? null : creditsPer1k(value, conversion));
        // Absent output: 0; absent input: no token price, no entry.
        const own = catalogPrices((kind) =>
          price(base(prices[CATALOG_KEYS[kind]]) ?? (kind === 'output' ? 0 : undefined)),
        );
        if (own === null) return;
        const { input, output } = own;
        const inputTier = tier(prices.input_mtok);
        const outputTier = tier(prices.output_mtok);
        const threshold = inputTier?.start ?? outputTier?.start;
        const longInput = inputTier ? price(inputTier.price) : input;
        const longOutput = outputTier ? price(outputTier.price) : output;
        entries.push({
          provider: provider.id,
          catalogModel: model.id,
          name: model.name ?? null,
          position,
          match: model.match as MatchLogic,
          contextWindow: model.context_window ?? null,
          validFrom: from,
          validTo: list[i + 1]?.from ?? null,
          ...own,
          longContext:
            threshold === undefined || longInput === null || longOutput === null
              ? null
              : { threshold: Math.min(threshold, 2_147_483_647), input: longInput, output: longOutput },
        });
      });
    });
  }
  return entries;
}
