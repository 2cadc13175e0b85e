import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';

import { normalisePrice } from '../price-text.js';
import { type CatalogEntry, type Conversion } from './catalog-data.js';
import type { CatalogPriceRow, CatalogSetRow } from './catalog-index.js';
import { CATALOG_KINDS, catalogPriceColumn, catalogPrices } from './catalog-kinds.js';

/** Each catalogue kind's price column, in TOKEN_KINDS order. */
const PRICE_COLUMNS = CATALOG_KINDS.map(catalogPriceColumn);

/** price_catalog_sets and price_catalog_prices: numeric prices arrive as decimal strings, never floats. */
@Injectable()
export class CatalogRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Serialises materialising until the transaction ends (two instances starting at once). */
  async lock(manager: EntityManager): Promise<void> {
    await manager.query(`SELECT pg_advisory_xact_lock(hashtext('price_catalog_sets'))`);
  }

  async sets(manager: EntityManager | DataSource = this.dataSource): Promise<CatalogSetRow[]> {
    const rows: { id: string; version: string; credits_per_usd: number; markup_percent: string; from: Date }[] =
      await manager.query(
        `SELECT id, version, credits_per_usd, markup_percent::text, effective_from AS "from"
           FROM price_catalog_sets ORDER BY effective_from`,
      );
    return rows.map((r) => ({
      id: r.id,
      version: r.version,
      creditsPerUsd: r.credits_per_usd,
      markupPercent: r.markup_percent,
      from: r.from.getTime(),
    }));
  }

  /** Adds a set in force from `from` with its entries, in the caller's transaction. */
  async insertSet(
    manager: EntityManager,
    version: string,
    conversion: Conversion,
    from: Date,
    entries: CatalogEntry[],
  ): Promise<void> {
    const [{ id }]: { id: string }[] = await manager.query(
      `INSERT INTO price_catalog_sets (version, credits_per_usd, markup_percent, effective_from)
       VALUES ($1, $2, $3::numeric, $4) RETURNING id`,
      [version, conversion.creditsPerUsd, conversion.markupPercent, from],
    );
    const rows = entries.map((e) => ({
      provider: e.provider,
      catalog_model: e.catalogModel,
      name: e.name,
      position: e.position,
      match: e.match,
      context_window: e.contextWindow,
      valid_from: e.validFrom.toISOString(),
      valid_to: e.validTo?.toISOString() ?? null,
      ...Object.fromEntries(CATALOG_KINDS.map((kind) => [catalogPriceColumn(kind), e[kind]])),
      long_context_threshold: e.longContext?.threshold ?? null,
      long_context_price_per_1k_tokens: e.longContext?.input ?? null,
      long_context_output_price_per_1k_tokens: e.longContext?.output ?? null,
    }));
    await manager.query(
      `INSERT INTO price_catalog_prices (set_id, provider, catalog_model, name, position, match, context_window,
                                         valid_from, valid_to, ${PRICE_COLUMNS.join(', ')},
                                         long_context_threshold, long_context_price_per_1k_tokens,
                                         long_context_output_price_per_1k_tokens)
       SELECT $1::uuid, r.provider, r.catalog_model, r.name, r.position, r.match, r.context_window, r.valid_from,
              r.valid_to, ${PRICE_COLUMNS.map((c) => `r.${c}`).join(', ')}, r.long_context_threshold, r.long_context_price_per_1k_tokens,
              r.long_context_output_price_per_1k_tokens
         FROM jsonb_to_recordset($2::jsonb) AS r(provider varchar, catalog_model varchar, name varchar, position int,
              match jsonb, context_window int, valid_from timestamptz, valid_to timestamptz,
              ${PRICE_COLUMNS.map((c) => `${c} numeric`).join(', ')}, long_context_threshold int,
              long_context_price_per_1k_tokens numeric, long_context_output_price_per_1k_tokens numeric)`,
      [id, JSON.stringify(rows)],
    );
  }

  /** Every entry of every set. */
  async prices(manager: EntityManager | DataSource = this.dataSource): Promise<CatalogPriceRow[]> {
    const rows: ({
      id: string;
      set_id: string;
      provider: string;
      catalog_model: string;
      name: string | null;
      position: number;
      match: CatalogPriceRow['match'];
      context_window: number | null;
      valid_from: Date;
      valid_to: Date | null;
      threshold: number | null;
      long_input: string | null;
      long_output: string | null;
    } & Record<string, unknown>)[] = await manager.query(
      `SELECT id, set_id, provider, catalog_model, name, position, match, context_window, valid_from, valid_to,
              ${PRICE_COLUMNS.map((c) => `${c}::text`).join(', ')}, long_context_threshold AS threshold, long_context_price_per_1k_tokens::text AS long_input,
              long_context_output_price_per_1k_tokens::text AS long_output
         FROM price_catalog_prices`,
    );
    return rows.map((r) => ({
      id: r.id,
      setId: r.set_id,
      provider: r.provider,
      catalogModel: r.catalog_model,
      name: r.name,
      position: r.position,
      match: r.match,
      contextWindow: r.context_window,
      from: r.valid_from.getTime(),
      to: r.valid_to?.getTime() ?? Number.POSITIVE_INFINITY,
      // Input and output are NOT NULL columns: every row has its prices.
      ...catalogPrices((kind) => {
        const price = r[catalogPriceColumn(kind)] as string | null;
        return price === null ? null : normalisePrice(price);
      })!,
      longContext:
        r.threshold === null
          ? null
          : { threshold: r.threshold, input: normalisePrice(r.long_input!), output: normalisePrice(r.long_output!) },
    }));
  }
}
