import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { DiscardBrokenConnections } from '../database/connections/discard-broken-connections.js';
import { connectionSettings } from '../database/data-source-options.js';

/** The application name of a re-rate's connections (its lease's and its lanes'), in pg_stat_activity. */
export const RERATE_APPLICATION_NAME = 'accounting-pricing-rerates';

/**
 * The connections a re-rate's lanes write their chunks on (docs/operations.md "Heavy reads"): a small
 * pool of their own, RERATE_LANES connections, made when first needed. A re-rate holds one heavy-read
 * place, but its lanes (up to 16) each hold a connection for as long as a chunk takes; on the request
 * pool they took what metering, balances and checks need, and the metering of the accounts being
 * re-rated waited seconds for a connection. A chunk writes corrections, so these are on the primary
 * (DATABASE_URL), never on DB_READ_URL. A lane beyond the pool waits for another lane's chunk to end.
 */
@Injectable()
export class RerateConnections {
  private opened: Promise<DataSource> | null = null;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  /** The pool, opened on first use; `url` is the primary's (the request pool's own). */
  dataSource(url: string, statementTimeoutMs: number): Promise<DataSource> {
    this.opened ??= this.open(url, statementTimeoutMs).catch((error: unknown) => {
      this.opened = null;
      throw error;
    });
    return this.opened;
  }

  private open(url: string, statementTimeoutMs: number): Promise<DataSource> {
    const { database, corrections } = this.config;
    const size = corrections.rerateLanes;
    return new DataSource({
      type: 'postgres',
      url,
      subscribers: [DiscardBrokenConnections],
      synchronize: false,
      migrationsRun: false,
      logging: false,
      poolSize: size,
      extra: {
        max: size,
        ...connectionSettings({ ...database, statementTimeoutMs }, RERATE_APPLICATION_NAME),
        // A lane waits for another's chunk (at most a chunk's statement timeout), not the 5 s of a request.
        connectionTimeoutMillis: statementTimeoutMs,
      },
    }).initialize();
  }

  /** Closes the pool (the runner, once its chunks have ended). */
  async close(): Promise<void> {
    const opened = this.opened;
    this.opened = null;
    if (opened) await (await opened.catch(() => null))?.destroy();
  }
}
