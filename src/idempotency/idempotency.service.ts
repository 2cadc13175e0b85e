import { Injectable, Logger } from '@nestjs/common';
import { Cron, CronExpression } from '@nestjs/schedule';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';

/** How long a key is remembered at least; the cleanup job deletes only older keys. */
export const IDEMPOTENCY_RETENTION_HOURS = 24;
const CLEANUP_BATCH = 10_000;

export interface StoredResponse {
  fingerprint: string;
  statusCode: number;
  body: unknown;
}

/** The `idempotency_keys` table: one stored successful response per (principal, key). */
@Injectable()
export class IdempotencyStore {
  private readonly logger = new Logger('Idempotency');

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * Takes the transaction-scoped advisory lock of a key without waiting: false means another
   * request with the same key is running right now.
   */
  async tryLock(manager: EntityManager, lockId: string): Promise<boolean> {
    const rows: { ok: boolean }[] = await manager.query(`SELECT pg_try_advisory_xact_lock($1::bigint) AS ok`, [lockId]);
    return rows[0].ok === true;
  }

  async find(manager: EntityManager, principal: string, key: string): Promise<StoredResponse | null> {
    const rows: { fingerprint: string; status_code: number; response_body: unknown }[] = await manager.query(
      `SELECT fingerprint, status_code, response_body FROM idempotency_keys WHERE principal = $1 AND key = $2`,
      [principal, key],
    );
    if (rows.length === 0) return null;
    return { fingerprint: rows[0].fingerprint, statusCode: rows[0].status_code, body: rows[0].response_body };
  }

  async save(
    manager: EntityManager,
    entry: {
      principal: string;
      key: string;
      fingerprint: string;
      method: string;
      path: string;
      statusCode: number;
      body: unknown;
    },
  ): Promise<void> {
    await manager.query(
      `INSERT INTO idempotency_keys (principal, key, fingerprint, method, path, status_code, response_body)
       VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb)`,
      [
        entry.principal,
        entry.key,
        entry.fingerprint,
        entry.method,
        entry.path.slice(0, 500),
        entry.statusCode,
        JSON.stringify(entry.body),
      ],
    );
  }

  /** Deletes keys older than the retention period, in batches so no long lock is held. */
  async deleteExpired(olderThanHours = IDEMPOTENCY_RETENTION_HOURS): Promise<number> {
    let total = 0;
    for (;;) {
      const rows: { n: number }[] = await this.dataSource.query(
        `WITH doomed AS (
           SELECT principal, key FROM idempotency_keys
            WHERE created_at < now() - make_interval(hours => $1)
            LIMIT $2)
         , gone AS (
           DELETE FROM idempotency_keys i USING doomed d
            WHERE i.principal = d.principal AND i.key = d.key
           RETURNING 1)
         SELECT count(*)::int AS n FROM gone`,
        [olderThanHours, CLEANUP_BATCH],
      );
      total += rows[0].n;
      if (rows[0].n < CLEANUP_BATCH) return total;
    }
  }

  @Cron(CronExpression.EVERY_HOUR, { name: 'idempotency-cleanup', waitForCompletion: true })
  async cleanup(): Promise<void> {
    try {
      const deleted = await this.deleteExpired();
      if (deleted > 0) this.logger.log({ msg: 'expired idempotency keys deleted', deleted });
    } catch (error) {
      this.logger.warn({
        msg: 'idempotency cleanup failed',
        err: error instanceof Error ? error.message : String(error),
      });
    }
  }
}
