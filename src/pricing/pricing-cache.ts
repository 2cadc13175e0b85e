import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import type { EntityManager } from 'typeorm';

import { CLOCK, type Clock } from '../common/clock.js';
import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { ChannelListener } from '../database/connections/channel-listener.js';
import { Transactions } from '../database/transactions.js';
import { type CachedAccountPrice, type ModelList, toAccountPriceView } from './account-prices.js';
import { CatalogRepository } from './catalog/catalog.repository.js';
import { CatalogIndex } from './catalog/catalog-index.js';
import { CatalogMaterialiser } from './catalog/catalog-materialiser.js';
import { PRICING_CHANNEL, PricingRepository } from './pricing.repository.js';
import { type PricingRuleView, toView } from './pricing-rules.js';

/** A rule as the cache keeps it: times as epoch ms for cheap comparisons. */
export interface CachedRule {
  view: PricingRuleView;
  from: number;
  to: number;
}

/** Everything a metered write is priced and checked with, by model and by account. */
export interface PricingSnapshot {
  /** Rules by model, newest effectiveFrom first. */
  rules: Map<string, CachedRule[]>;
  /** Account prices by account id (`accounts.account_id`). */
  accountPrices: Map<string, CachedAccountPrice[]>;
  /** The model lists in force for an account other than its keys' (the org's own, the plan's), by account id. */
  modelLists: Map<string, ModelList[]>;
  /** The materialised price catalogue (empty with PRICE_CATALOG off). */
  catalog: CatalogIndex;
}

const NO_CATALOG = new CatalogIndex([], []);

/**
 * What pricing reads on every metered write, held in memory so the write makes no statement for it:
 * the rules, the account prices and the accounts whose org or plan limits their models (few: only
 * lists that are set are loaded). Reloaded after `PRICING_CACHE_TTL_MS` and at once after a change:
 * every table it is read from announces its changes at commit (the `pricing_changed` trigger), so
 * another instance's change is seen as soon as the notification arrives; while the listener is not
 * connected the TTL bounds staleness, as it always did.
 */
@Injectable()
export class PricingCache implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('Pricing');
  private cache: { snapshot: PricingSnapshot; loadedAt: number } | null = null;
  private loading: Promise<PricingSnapshot> | null = null;
  /** Bumped on every change, so a load that started before it never caches stale rules. */
  private generation = 0;
  private readonly listener: ChannelListener;
  /** The catalogue as last loaded: its entries are read again only when its sets change. */
  private catalog: CatalogIndex = NO_CATALOG;

  constructor(
    private readonly repository: PricingRepository,
    private readonly catalogs: CatalogRepository,
    private readonly materialiser: CatalogMaterialiser,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(Transactions) private readonly tx: Transactions,
  ) {
    this.listener = new ChannelListener({
      url: config.database.url ?? null,
      channel: PRICING_CHANNEL,
      applicationName: 'accounting-pricing',
      logger: this.logger,
      onNotification: () => this.invalidate(),
      onListening: () => this.invalidate(),
      onLost: () => this.invalidate(),
    });
  }

  /** Listen, and warm the cache so the first priced requests do not wait for it. */
  async onApplicationBootstrap(): Promise<void> {
    // The installed catalogue first: the first prices read must be the ones it brings.
    if (this.config.pricing.catalog.enabled) {
      await this.materialiser
        .materialise()
        .catch((err: unknown) => this.logger.error({ msg: 'price catalogue not stored', err: String(err) }));
    }
    await this.listener.start();
    await this.reload().catch((err: unknown) => this.logger.warn({ msg: 'pricing warm-up failed', err: String(err) }));
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.listener.stop();
  }

  /** Forget what is cached (the next read reloads). */
  invalidate(): void {
    this.generation++;
    this.cache = null;
    this.loading = null;
  }

  async snapshot(): Promise<PricingSnapshot> {
    const ttl = this.config.pricing.cacheTtlMs;
    const age = this.cache ? this.clock.now() - this.cache.loadedAt : Number.POSITIVE_INFINITY;
    if (this.cache && age < ttl) {
      // Refresh ahead in the background during the second half of the TTL, so requests under steady
      // load never wait for a load (one waiting inside an Idempotency-Key transaction would hold a
      // pool connection while needing another); staleness stays bounded by the TTL.
      if (age >= ttl / 2) {
        this.reload().catch((err: unknown) => this.logger.warn({ msg: 'pricing refresh failed', err: String(err) }));
      }
      return this.cache.snapshot;
    }
    if (this.tx.inTransaction) return this.loadInTransaction();
    return this.reload();
  }

  /**
   * A caller inside a transaction (an Idempotency-Key request's) holds a pool connection already, and
   * the shared load needs one more: were every connection held by such callers, all waiting for the
   * load, none would ever come free (a pool full of transactions after a lull past the TTL, or after
   * a price change, stalled until their timeouts). So it reads the prices on its own transaction's
   * connection, for itself only: what a transaction reads is never cached (it sees its own
   * uncommitted writes). The shared load starts beside it for every other caller.
   */
  private loadInTransaction(): Promise<PricingSnapshot> {
    this.reload().catch((err: unknown) => this.logger.warn({ msg: 'pricing refresh failed', err: String(err) }));
    return this.load(this.tx.statementManager);
  }

  /** One load at a time; concurrent callers share it. */
  private reload(): Promise<PricingSnapshot> {
    if (!this.loading) {
      const loading = this.load().finally(() => {
        if (this.loading === loading) this.loading = null;
      });
      this.loading = loading;
    }
    return this.loading;
  }

  /** The prices as `manager` reads them (a transaction's: for its caller only), else on the pool and cached. */
  private async load(manager?: EntityManager): Promise<PricingSnapshot> {
    const startedAt = this.clock.now();
    const generation = this.generation;
    // One after another: a load never takes more than one pool connection.
    const rules = await this.repository.all(manager);
    const accountPrices = await this.repository.allAccountPrices(manager);
    const lists = await this.repository.modelLists(manager);
    const catalog = await this.loadCatalog(manager);
    const snapshot: PricingSnapshot = { rules: new Map(), accountPrices: new Map(), modelLists: new Map(), catalog };
    for (const rule of rules) {
      const entry = { view: toView(rule), from: rule.effectiveFrom.getTime(), to: until(rule.effectiveTo) };
      push(snapshot.rules, rule.modelId, entry);
    }
    for (const row of accountPrices) {
      const entry = { view: toAccountPriceView(row), from: row.effectiveFrom.getTime(), to: until(row.effectiveTo) };
      push(snapshot.accountPrices, row.accountId, entry);
    }
    for (const { accountId, models } of lists) push(snapshot.modelLists, accountId, models);
    if (manager === undefined && generation === this.generation) this.cache = { snapshot, loadedAt: startedAt };
    return snapshot;
  }

  /** The catalogue's sets, and its entries when the sets differ from those loaded last (they change only at a start). */
  private async loadCatalog(manager?: EntityManager): Promise<CatalogIndex> {
    if (!this.config.pricing.catalog.enabled) return NO_CATALOG;
    const sets = await this.catalogs.sets(manager);
    const same = sets.length === this.catalog.sets.length && sets.every((set, i) => set.id === this.catalog.sets[i].id);
    if (same) return this.catalog;
    const catalog = new CatalogIndex(sets, await this.catalogs.prices(manager));
    if (manager === undefined) this.catalog = catalog;
    return catalog;
  }
}

const until = (to: Date | null) => to?.getTime() ?? Number.POSITIVE_INFINITY;

function push<V>(map: Map<string, V[]>, key: string, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
