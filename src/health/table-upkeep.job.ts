import { Inject, Injectable, Logger } from '@nestjs/common';
import { Interval } from '@nestjs/schedule';

import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { TableUpkeepSession } from './table-upkeep.repository.js';

/**
 * Four times autovacuum's default nap: metering rewrites an account's allocation on every take, and
 * a minute of that at a few thousand takes a second leaves versions enough to slow every take.
 */
export const TABLE_UPKEEP_INTERVAL_MS = 15_000;

/** What one pass did: the tables vacuumed (and analyzed), and those only analyzed. */
export interface UpkeepPass {
  vacuumed: string[];
  analyzed: string[];
}

/**
 * Vacuums and analyzes the service's tables where nothing else does (`TABLE_UPKEEP`, default `auto`:
 * while the server runs with `autovacuum = off`). Without it such a server plans the hot statements
 * without statistics and lets every rewritten allocation leave its old version behind: a plain load
 * on a fresh database metered at 0.45× TPC-B instead of 0.75×, and at 0.54× instead of 0.70× once a
 * million records had filled it (docs/benchmarks.md "The record as a plain client measures it").
 *
 * One instance at a time (a session lock of the pass's own connection), on a connection of its own
 * as the tables' owner (DATABASE_MIGRATION_URL where set: VACUUM is the owner's), at the heavy reads'
 * CPU priority and autovacuum's cost delay, so a pass takes what metering leaves idle. Tables are
 * taken one by one; one another session holds a lock on waits for the next pass.
 */
@Injectable()
export class TableUpkeepJob {
  private readonly logger = new Logger('Database');

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(MetricsService) private readonly metrics: MetricsService,
  ) {}

  @Interval('table-upkeep', TABLE_UPKEEP_INTERVAL_MS)
  tick(): Promise<void> {
    return this.metrics.runJob('table-upkeep', async () => {
      const pass = await this.run();
      if (pass.vacuumed.length + pass.analyzed.length > 0) this.logger.log({ msg: 'tables kept', ...pass });
    });
  }

  /** One pass; what it did (nothing where the mode or the server leaves the tables to autovacuum). */
  async run(): Promise<UpkeepPass> {
    const pass: UpkeepPass = { vacuumed: [], analyzed: [] };
    const { tableUpkeep, migrationUrl, url } = this.config.database;
    const owner = migrationUrl ?? url;
    if (tableUpkeep === 'off' || !owner) return pass;
    const session = await TableUpkeepSession.open(owner);
    try {
      const { autovacuum, mine } = await session.claim();
      if ((tableUpkeep === 'auto' && autovacuum) || !mine) return pass;
      await session.lowerPriority(this.config.heavyReads.nice);
      for (const table of await session.dueTables()) {
        await session.keep(table);
        (table.vacuum ? pass.vacuumed : pass.analyzed).push(table.name);
      }
      return pass;
    } finally {
      await session.close();
    }
  }
}
