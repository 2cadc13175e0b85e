import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import pg from 'pg';

import type { AppConfig } from '../../config/app-config.js';
import { APP_CONFIG } from '../../config/config.module.js';
import { connectionSettings } from '../data-source-options.js';

/**
 * Readiness asks the primary on a connection of its own. On the request pool, a pool that was all
 * lent out (slow exports, a burst) made readiness time out on every instance at once, and the load
 * balancer took them all out of rotation although the database was fine. A single connection, made
 * when first needed and again after it broke; a ping that hangs is cut by `query_timeout`, which also
 * discards the connection.
 */
@Injectable()
export class DatabaseProbe implements OnApplicationShutdown {
  private pool: pg.Pool | null = null;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  /** Resolves once the primary has answered `SELECT 1`; rejects when it cannot be asked or does not answer in time. */
  async ping(timeoutMs: number): Promise<void> {
    this.pool ??= this.open(timeoutMs);
    await this.pool.query('SELECT 1');
  }

  private open(timeoutMs: number): pg.Pool {
    const { database } = this.config;
    if (!database.url) throw new Error('No database URL');
    const pool = new pg.Pool({
      connectionString: database.url,
      ...connectionSettings(database, 'accounting-readiness'),
      connectionTimeoutMillis: timeoutMs,
      query_timeout: timeoutMs,
      max: 1,
      idleTimeoutMillis: 0,
    });
    // An idle connection that dies is dropped by the pool; the next ping opens another.
    pool.on('error', () => undefined);
    return pool;
  }

  async onApplicationShutdown(): Promise<void> {
    await this.pool?.end();
  }
}
