import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import pg from 'pg';

import { connectionProblem } from '../common/errors/connection-errors.js';
import { ExportsBusyError } from '../common/errors/domain-error.js';
import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { connectionSettings } from './data-source-options.js';

/** A connection lent to one export: its statements, and `release()` (safe to call more than once). */
export interface ExportConnection {
  query<T>(sql: string, params?: unknown[]): Promise<T[]>;
  release(): void;
}

/** What the export pool holds right now (for the metrics). */
export interface ExportPoolStats {
  max: number;
  total: number;
  idle: number;
  waiting: number;
}

/**
 * pg-pool's refusal when every connection stayed lent for connectionTimeoutMillis (5 s) means the
 * exports are busy, not that the database is down: EXPORTS_BUSY (503, Retry-After). Anything else
 * (refused, unreachable) is left as it is and answers DATABASE_UNAVAILABLE.
 */
export function busyWhenPoolFull(error: unknown, retryAfterSeconds: number): unknown {
  const full = error instanceof Error && /^timeout exceeded when trying to connect$/.test(error.message);
  return full ? new ExportsBusyError(retryAfterSeconds) : error;
}

/**
 * The CSV exports' own connections (EXPORT_POOL_SIZE). An export holds its connection — a read-only
 * transaction with an open cursor — for as long as its client keeps reading, so exports never draw on
 * the pool every other request needs: four clients that stopped reading used to hold a pool of four,
 * and every other request, readiness and the jobs waited for it. On DB_READ_URL when set (exports may
 * lag, like the other reads there), else on the primary. The pool is made when first needed.
 */
@Injectable()
export class ExportConnections implements OnApplicationShutdown {
  private pool: pg.Pool | null = null;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  async connect(): Promise<ExportConnection> {
    const pool = (this.pool ??= this.open());
    let client: pg.PoolClient;
    try {
      client = await pool.connect();
    } catch (error) {
      throw busyWhenPoolFull(error, this.retryAfterSeconds);
    }
    // While lent, a client has no listener of the pool's: the server ending the session while the
    // export waits for its reader (idle in transaction) would otherwise be an uncaught 'error'.
    let broken: Error | undefined;
    const onError = (err: Error) => (broken ??= err);
    client.on('error', onError);
    let released = false;
    return {
      query: async <T>(sql: string, params?: unknown[]) => {
        try {
          return (await client.query(sql, params)).rows as T[];
        } catch (error) {
          if (connectionProblem(error)) broken ??= error as Error;
          throw error;
        }
      },
      release: () => {
        if (released) return;
        released = true;
        client.removeListener('error', onError);
        // With the error, the pool destroys the connection instead of lending it again.
        client.release(broken);
      },
    };
  }

  /** When to come back after EXPORTS_BUSY: by then a stalled export has been ended. */
  get retryAfterSeconds(): number {
    return Math.ceil(this.config.csvExports.stallTimeoutMs / 1000);
  }

  stats(): ExportPoolStats | null {
    const pool = this.pool;
    if (!pool) return null;
    return {
      max: this.config.csvExports.poolSize,
      total: pool.totalCount,
      idle: pool.idleCount,
      waiting: pool.waitingCount,
    };
  }

  private open(): pg.Pool {
    const { database, csvExports } = this.config;
    const url = database.readUrl ?? database.url;
    if (!url) throw new Error('No database URL');
    const pool = new pg.Pool({
      connectionString: url,
      ...connectionSettings(database, 'accounting-exports'),
      max: csvExports.poolSize,
    });
    // An idle connection that dies is dropped by the pool; the next export opens another.
    pool.on('error', () => undefined);
    return pool;
  }

  async onApplicationShutdown(): Promise<void> {
    await this.pool?.end();
  }
}
