import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { EntityManager, Repository } from 'typeorm';

import { EMAIL_RE, type ErasedPerson, erasureParams, NAME_RE } from '../common/erasure.js';
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

  /**
   * Makes the transaction's COMMIT wait for the synchronous standby, as a write's does: it locks the
   * stored key's row (FOR KEY SHARE), and a row lock is written to the WAL. PostgreSQL waits for the
   * standby only at the commit of a transaction that wrote WAL, so a read-only replay would be
   * answered at once; now the standby that confirms the commit holds every earlier WAL record, the
   * stored response's included. Without this a replay could acknowledge a response that only this
   * node has, which a failover takes back (docs/operations.md).
   */
  async awaitDurableOnCommit(manager: EntityManager, principal: string, key: string): Promise<void> {
    await manager.query(`SELECT 1 FROM idempotency_keys WHERE principal = $1 AND key = $2 FOR KEY SHARE`, [
      principal,
      key,
    ]);
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

  /**
   * An erasure (docs/erasure.md): the email and username out of the answers stored for the person's
   * own principal (`user:<id>`, their JWTs and keys alike; the primary key's prefix), never another
   * principal's. Answers how many changed.
   */
  async erase(manager: EntityManager, person: ErasedPerson): Promise<number> {
    const rows: unknown[] = await manager.query(
      `WITH erased AS (
         SELECT principal, key, erase_json(response_body, ${EMAIL_RE}, ${NAME_RE}, false) AS body
           FROM idempotency_keys WHERE principal = 'user:' || $1)
       UPDATE idempotency_keys i SET response_body = erased.body FROM erased
        WHERE i.principal = erased.principal AND i.key = erased.key AND i.response_body IS DISTINCT FROM erased.body
       RETURNING 1`,
      erasureParams(person),
    );
    return rows.length;
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
