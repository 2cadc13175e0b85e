/**
 * The materialised catalogue in memory: its sets (a version at a conversion, each in force from the
 * start that brought it) and their entries by provider, and the lookup a metered write makes: the
 * set in force at the instant, the first provider (in PRICE_CATALOG_PROVIDERS order, a gateway
 * upstream's own first) with an entry whose rule accepts the model, that entry's period at the
 * instant. Match results are remembered per set and order, so a write's lookup is a map read.
 */
import type { CatalogPrices } from './catalog-kinds.js';
import { firstMatch, type MatchLogic } from './catalog-match.js';

export interface CatalogSetRow {
  id: string;
  version: string;
  creditsPerUsd: number;
  markupPercent: string;
  from: number;
}

/** One period of an entry's prices: credits per 1k tokens as 4- to 10-place strings. */
export interface CatalogPriceRow extends CatalogPrices {
  id: string;
  setId: string;
  provider: string;
  catalogModel: string;
  name: string | null;
  position: number;
  match: MatchLogic;
  contextWindow: number | null;
  from: number;
  to: number;
  longContext: { threshold: number; input: string; output: string } | null;
}

/** An entry of a provider: its rule and its periods, oldest first. */
export interface CatalogModel {
  provider: string;
  catalogModel: string;
  name: string | null;
  match: MatchLogic;
  contextWindow: number | null;
  periods: CatalogPriceRow[];
}

/** What priced a model from the catalogue: the period's prices and where they come from. */
export interface CatalogPrice {
  row: CatalogPriceRow;
  set: CatalogSetRow;
  /** The record's `priceSource`. */
  source: { catalog: string; model: string };
  /** When the price took effect: the later of the set's start and the period's. */
  from: number;
  to: number;
}

const MAX_REMEMBERED = 10_000;

export class CatalogIndex {
  /** Sets by start, oldest first. */
  readonly sets: CatalogSetRow[];
  private readonly models = new Map<string, Map<string, CatalogModel[]>>();
  private readonly remembered = new Map<string, CatalogModel | null>();

  constructor(sets: CatalogSetRow[], rows: CatalogPriceRow[]) {
    this.sets = [...sets].sort((a, b) => a.from - b.from);
    const byKey = new Map<string, CatalogModel>();
    const sorted = [...rows].sort((a, b) => a.position - b.position || a.from - b.from);
    for (const row of sorted) {
      const key = `${row.setId}\u0000${row.provider}\u0000${row.catalogModel}`;
      let model = byKey.get(key);
      if (!model) {
        model = { ...row, periods: [] };
        byKey.set(key, model);
        let providers = this.models.get(row.setId);
        if (!providers) this.models.set(row.setId, (providers = new Map()));
        const list = providers.get(row.provider);
        if (list) list.push(model);
        else providers.set(row.provider, [model]);
      }
      model.periods.push(row);
    }
  }

  /** The set in force at `t` (null: none yet, or no catalogue). */
  setAt(t: number): CatalogSetRow | null {
    let found: CatalogSetRow | null = null;
    for (const set of this.sets) if (set.from <= t) found = set;
    return found;
  }

  /** The newest set: the installed version as the service last started with it. */
  latest(): CatalogSetRow | null {
    return this.sets.at(-1) ?? null;
  }

  /** A set's models of one provider, in the catalogue's order. */
  modelsOf(setId: string, provider: string): CatalogModel[] {
    return this.models.get(setId)?.get(provider) ?? [];
  }

  /** The providers a set has entries of. */
  providersOf(setId: string): string[] {
    return [...(this.models.get(setId)?.keys() ?? [])];
  }

  /** The entry that prices `modelId` in the set: the first provider of `order` with a matching entry. */
  modelFor(setId: string, modelId: string, order: readonly string[]): CatalogModel | null {
    const key = `${setId}\u0000${order.join(',')}\u0000${modelId}`;
    const known = this.remembered.get(key);
    if (known !== undefined) return known;
    let found: CatalogModel | null = null;
    for (const provider of order) {
      found = firstMatch(this.modelsOf(setId, provider), modelId) ?? null;
      if (found) break;
    }
    if (this.remembered.size >= MAX_REMEMBERED) this.remembered.clear();
    this.remembered.set(key, found);
    return found;
  }

  /** The catalogue's price of `modelId` at `t`, or null when no entry of `order` prices it then. */
  priceAt(modelId: string, t: number, order: readonly string[]): CatalogPrice | null {
    const set = this.setAt(t);
    if (!set) return null;
    const model = this.modelFor(set.id, modelId, order);
    if (!model) return null;
    const row = model.periods.find((p) => p.from <= t && t < p.to);
    if (!row) return null;
    const next = this.sets[this.sets.indexOf(set) + 1];
    return {
      row,
      set,
      source: { catalog: set.version, model: row.catalogModel },
      from: Math.max(set.from, row.from),
      to: Math.min(next?.from ?? Number.POSITIVE_INFINITY, row.to),
    };
  }
}
