import { Readable } from 'node:stream';

import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import pg from 'pg';

import { connectionProblem } from '../common/errors/connection-errors.js';
import { HeavyReadsBusyError, HeavyReadTimeoutError } from '../common/errors/domain-error.js';
import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { lowerBackendPriority } from './connections/backend-priority.js';
import { connectionSettings } from './data-source-options.js';

/** What a heavy read's work is given: statements on its own connection, in one read-only snapshot. */
export interface HeavyReadConnection {
  query<T>(sql: string, params?: unknown[]): Promise<T[]>;
}

/** The same, able to take a new snapshot between its statements. */
export interface RenewableHeavyRead extends HeavyReadConnection {
  /**
   * Ends the snapshot and takes a new one: a read made of many short statements that need not agree
   * with each other (a simulation, day by day) lets the database clean up behind metering's updates
   * between them, which one snapshot held for the whole read would stop (every row metering updates
   * would keep each of its versions since the read began).
   */
  renew(): Promise<void>;
}

/** A heavy read held open (a streamed CSV): its connection, and `release()` when done (safe twice). */
export interface HeavyRead extends RenewableHeavyRead {
  /** When it is stopped (ms since the epoch). */
  readonly deadline: number;
  release(): Promise<void>;
}

/** When to come back after HEAVY_READS_BUSY: most reports of a page or a month take less. */
export const HEAVY_READS_RETRY_AFTER_SECONDS = 5;

/** How many heavy reads run now, of how many allowed. */
export interface HeavyReadsStats {
  running: number;
  max: number;
}

/**
 * The gate every heavy read passes (docs/operations.md "Heavy reads"): roll-forwards, liability pages
 * and simulations, and any other module's report that reads much of the ledger or the records. At most
 * HEAVY_READS_CONCURRENCY run at once per instance (one more → 429 HEAVY_READS_BUSY, nothing started);
 * each runs in a read-only REPEATABLE READ transaction on a connection of a small pool of their own,
 * on DB_READ_URL when set, else on the primary, never on the pool metering, balances and checks use;
 * its database process lowered to HEAVY_READS_NICE where the database is local and may be changed;
 * and each is stopped after HEAVY_READ_TIMEOUT_SECONDS, in the database too (statement_timeout set to
 * the time left before each statement) → 503 TIMEOUT. The pool is made when first needed.
 */
@Injectable()
export class HeavyReads implements OnApplicationShutdown {
  private pool: pg.Pool | null = null;
  private running = 0;
  /** The pool's connections whose database process has been lowered to HEAVY_READS_NICE (or could not be). */
  private readonly lowered = new WeakSet<pg.PoolClient>();

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  /** Runs `work` as one heavy read: its connection is given back whatever happens. */
  async run<T>(work: (db: RenewableHeavyRead) => Promise<T>): Promise<T> {
    const read = await this.open();
    try {
      return await work(read);
    } finally {
      await read.release();
    }
  }

  /** Takes a place and a connection for a read that outlives one call (a stream); release() it. */
  async open(): Promise<HeavyRead> {
    const { concurrency, timeoutSeconds } = this.config.heavyReads;
    if (this.running >= concurrency) throw new HeavyReadsBusyError(HEAVY_READS_RETRY_AFTER_SECONDS);
    this.running += 1;
    const deadline = Date.now() + timeoutSeconds * 1000;
    let client: pg.PoolClient | undefined;
    let broken: Error | undefined;
    const onError = (err: Error) => (broken ??= err);
    try {
      client = await (this.pool ??= this.openPool()).connect();
      client.on('error', onError);
      if (!this.lowered.has(client)) {
        await lowerBackendPriority(client, this.config.heavyReads.nice);
        this.lowered.add(client);
      }
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    } catch (error) {
      client?.removeListener('error', onError);
      client?.release(error as Error);
      this.running -= 1;
      throw error;
    }
    const lent = client;
    let released = false;
    return {
      deadline,
      query: async <T>(sql: string, params?: unknown[]): Promise<T[]> => {
        const left = deadline - Date.now();
        if (left <= 0) throw new HeavyReadTimeoutError(timeoutSeconds);
        try {
          await lent.query(`SELECT set_config('statement_timeout', $1, true)`, [String(left)]);
          return (await lent.query(sql, params)).rows as T[];
        } catch (error) {
          if (connectionProblem(error)) broken ??= error as Error;
          if ((error as { code?: string }).code === '57014') throw new HeavyReadTimeoutError(timeoutSeconds);
          throw error;
        }
      },
      renew: async () => {
        try {
          await lent.query('COMMIT');
          await lent.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
        } catch (error) {
          if (connectionProblem(error)) broken ??= error as Error;
          throw error;
        }
      },
      release: async () => {
        if (released) return;
        released = true;
        this.running -= 1;
        try {
          if (!broken) await lent.query('ROLLBACK');
        } catch (error) {
          broken ??= error as Error;
        }
        lent.removeListener('error', onError);
        // With the error, the pool destroys the connection instead of lending it again.
        lent.release(broken);
      },
    };
  }

  /**
   * Takes a place only, for work that brings its own connection and runs in the background (a Parquet
   * export: on the primary, resumable, so its own statement timeout and none of these); call the
   * answer to give the place back (more than once is safe).
   */
  place(): () => void {
    if (this.running >= this.config.heavyReads.concurrency) {
      throw new HeavyReadsBusyError(HEAVY_READS_RETRY_AFTER_SECONDS);
    }
    this.running += 1;
    let given = false;
    return () => {
      if (given) return;
      given = true;
      this.running -= 1;
    };
  }

  stats(): HeavyReadsStats {
    return { running: this.running, max: this.config.heavyReads.concurrency };
  }

  private openPool(): pg.Pool {
    const { database, heavyReads } = this.config;
    const url = database.readUrl ?? database.url;
    if (!url) throw new Error('No database URL');
    const timeoutMs = heavyReads.timeoutSeconds * 1000;
    // Each statement's own timeout is set before it runs; these bound a connection left between them.
    const settings = connectionSettings(
      { ...database, statementTimeoutMs: timeoutMs, idleInTransactionTimeoutMs: timeoutMs },
      'accounting-heavy-reads',
    );
    const pool = new pg.Pool({
      connectionString: url,
      ...settings,
      // Parallel workers off by default: a heavy read takes one core of the database, not three. JIT
      // on (the server's default): a heavy read scans enough rows to repay compiling its expressions.
      options: `${settings.options} -c max_parallel_workers_per_gather=${heavyReads.parallelWorkers} -c jit=on`,
      max: heavyReads.concurrency,
    });
    // An idle connection that dies is dropped by the pool; the next read opens another.
    pool.on('error', () => undefined);
    return pool;
  }

  async onApplicationShutdown(): Promise<void> {
    await this.pool?.end();
  }
}

/**
 * The text `produce` yields on `read`'s connection, as a stream (a CSV of every page, never one string
 * in memory): the read is given back when the stream closes, whether it ended, failed, or its client
 * went away; a stream still open at the read's deadline (a client that stopped reading) is cut off.
 */
export function heavyStream(read: HeavyRead, produce: (db: HeavyReadConnection) => AsyncIterable<string>): Readable {
  const stream = Readable.from(produce(read), { objectMode: false });
  const timer = setTimeout(() => stream.destroy(new Error('heavy read past its deadline')), read.deadline - Date.now());
  stream.once('close', () => {
    clearTimeout(timer);
    void read.release();
  });
  return stream;
}
