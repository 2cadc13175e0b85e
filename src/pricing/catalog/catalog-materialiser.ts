import { Inject, Injectable, Logger } from '@nestjs/common';

import { CLOCK, type Clock } from '../../common/clock.js';
import type { AppConfig } from '../../config/app-config.js';
import { APP_CONFIG } from '../../config/config.module.js';
import { Transactions } from '../../database/transactions.js';
import { CatalogRepository } from './catalog.repository.js';
import { CATALOG_EPOCH, catalogEntries, installedCatalogVersion, installedProviders } from './catalog-data.js';

/**
 * Stores the installed catalogue at start (docs/pricing.md "The price catalogue"): on a database's
 * first start, as in force since before any catalogue date; later, only when the version or the
 * conversion (CREDITS_PER_USD, PRICE_MARKUP_PERCENT) differs from the newest stored set, as a new set
 * in force from this start. So an upgrade never changes a price of a time before the start that
 * brings it, and re-rates, simulations, corrections and quotes of a past instant read what was in force.
 */
@Injectable()
export class CatalogMaterialiser {
  private readonly logger = new Logger('Pricing');

  constructor(
    private readonly repository: CatalogRepository,
    @Inject(Transactions) private readonly tx: Transactions,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async materialise(): Promise<void> {
    const { creditsPerUsd, markupPercent } = this.config.pricing.catalog;
    const conversion = { creditsPerUsd, markupPercent };
    const version = installedCatalogVersion();
    const entries = catalogEntries(await installedProviders(), conversion);
    await this.tx.run(async (manager) => {
      await this.repository.lock(manager);
      const latest = (await this.repository.sets(manager)).at(-1);
      if (
        latest &&
        latest.version === version &&
        latest.creditsPerUsd === creditsPerUsd &&
        Number(latest.markupPercent) === Number(markupPercent)
      ) {
        return;
      }
      const from = latest ? new Date(this.clock.now()) : CATALOG_EPOCH;
      await this.repository.insertSet(manager, version, conversion, from, entries);
      // A first start's set is the Prices line of the start; a newer one (prices from now on) is news.
      const stored = { msg: 'price catalogue stored', version, from: from.toISOString(), entries: entries.length };
      if (latest) this.logger.log(stored);
      else this.logger.debug(stored);
    });
  }
}
