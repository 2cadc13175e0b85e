import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { EntityManager, Repository } from 'typeorm';

import { IdempotencyKey } from './entities/idempotency-key.entity.js';

export interface StoredResponse {
  fingerprint: string;
  statusCode: number;
  body: unknown;
}

export interface NewStoredResponse extends StoredResponse {
  principal: string;
  key: string;
  method: string;
  path: string;
}

/** idempotency_keys: one stored successful response per (principal, key). */
@Injectable()
export class IdempotencyRepository {
  constructor(@InjectRepository(IdempotencyKey) private readonly keys: Repository<IdempotencyKey>) {}

  /**
   * Takes the transaction-scoped advisory lock of a key without waiting: false means another
   * request with the same key is running right now.
   */
  async tryLock(manager: EntityManager, lockId: string): Promise<boolean> {
    const rows: { ok: boolean }[] = await manager.query(`SELECT pg_try_advisory_xact_lock($1::bigint) AS ok`, [lockId]);
    return rows[0].ok === true;
  }

  async find(manager: EntityManager, principal: string, key: string): Promise<StoredResponse | null> {
    const found = await manager.findOne(IdempotencyKey, {
      where: { principal, key },
      select: { principal: true, key: true, fingerprint: true, statusCode: true, responseBody: true },
    });
    return found && { fingerprint: found.fingerprint, statusCode: found.statusCode, body: found.responseBody };
  }

  async save(manager: EntityManager, entry: NewStoredResponse): Promise<void> {
    await manager
      .createQueryBuilder()
      .insert()
      .into(IdempotencyKey)
      .values({
        principal: entry.principal,
        key: entry.key,
        fingerprint: entry.fingerprint,
        method: entry.method,
        path: entry.path.slice(0, 500),
        statusCode: entry.statusCode,
        // Any JSON value: TypeORM serialises jsonb with JSON.stringify (its typing wants an object).
        responseBody: entry.body as object,
      })
      .updateEntity(false)
      .execute();
  }

  /** Deletes up to `batch` keys older than `olderThanHours`; returns how many it deleted. */
  async deleteOlderThan(olderThanHours: number, batch: number): Promise<number> {
    const rows: { n: number }[] = await this.keys.query(
      `WITH doomed AS (
         SELECT principal, key FROM idempotency_keys
          WHERE created_at < now() - make_interval(hours => $1)
          LIMIT $2)
       , gone AS (
         DELETE FROM idempotency_keys i USING doomed d
          WHERE i.principal = d.principal AND i.key = d.key
         RETURNING 1)
       SELECT count(*)::int AS n FROM gone`,
      [olderThanHours, batch],
    );
    return rows[0].n;
  }
}
