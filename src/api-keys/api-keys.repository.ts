import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { EntityManager, Repository, SelectQueryBuilder } from 'typeorm';

import type { Scope } from '../auth/roles.js';
import { cursorTimestampSql } from '../common/http/pagination.js';
import { ApiKey } from './entities/api-key.entity.js';

/** A key as the routes show it, with what the database says about it now. */
export interface StoredApiKey {
  key: ApiKey;
  /** Not revoked and not expired, by the database's clock. */
  active: boolean;
  /** created_at with microseconds, for the keyset cursor (a JS Date would round it). */
  cursorT: string;
  /** credit_key_spend's count if it is of the key's current period (null: no row). */
  spentInPeriod: number | null;
  /** The database's clock, by which the credits module counts periods. */
  now: Date;
}

/** What authentication needs, in one indexed lookup by hash. */
export interface KeyLookup {
  id: string;
  userId: string;
  permissions: string[];
  revoked: boolean;
  expired: boolean;
  /** `last_used` is older than a minute (or unset): worth recording this use. */
  touchDue: boolean;
  email: string | null;
  username: string | null;
}

export type NewApiKey = Pick<
  ApiKey,
  'userId' | 'name' | 'keyHash' | 'prefix' | 'permissions' | 'expiresAt' | 'creditLimit' | 'limitPeriod'
>;

export type ApiKeyChanges = Partial<Pick<ApiKey, 'name' | 'creditLimit' | 'limitPeriod'>>;

/** The start of the key's current period, as the credits module's take computes it (migration 1732000009000). */
const PERIOD_START_SQL = `CASE k.limit_period
    WHEN 'day' THEN date_trunc('day', now(), 'UTC')
    WHEN 'week' THEN date_trunc('week', now(), 'UTC')
    WHEN 'month' THEN date_trunc('month', now(), 'UTC')
    ELSE CAST('-infinity' AS timestamptz) END`;

/**
 * What the key spent in its current period. A read of the credits module's counter (only
 * src/credits/ writes it): a row of an earlier period counts as 0, as it does for the take.
 */
const SPENT_IN_PERIOD_SQL = `(SELECT CASE WHEN s.period_start = ${PERIOD_START_SQL} THEN s.spent ELSE 0 END
     FROM credit_key_spend s WHERE s.api_key_id = k.id)`;

/** api_keys: TypeORM for the key's own rows, SQL for the authentication lookup (a join, every request). */
@Injectable()
export class ApiKeysRepository {
  constructor(@InjectRepository(ApiKey) private readonly keys: Repository<ApiKey>) {}

  async insert(manager: EntityManager, values: NewApiKey): Promise<StoredApiKey> {
    const repository = manager.getRepository(ApiKey);
    const key = repository.create(values);
    await repository.insert(key);
    return (await this.find(manager, key.id, null))!;
  }

  /**
   * How many usable keys (neither revoked nor expired) `userId` holds, with that user's key creations
   * serialised until the transaction ends (a transaction-scoped advisory lock, apart from the account
   * row the money path locks), so parallel creations cannot pass a quota together.
   */
  async countActiveForCreate(manager: EntityManager, userId: string): Promise<number> {
    await manager.query(`SELECT pg_advisory_xact_lock(hashtextextended('api_keys:' || $1::text, 0))`, [userId]);
    const rows: { n: number }[] = await manager.query(
      `SELECT count(*)::int AS n FROM api_keys
        WHERE user_id = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())`,
      [userId],
    );
    return rows[0].n;
  }

  /** One key; with `owner`, only if it is that user's. */
  async find(manager: EntityManager, id: string, owner: string | null): Promise<StoredApiKey | null> {
    const qb = this.select(manager).where('k.id = :id', { id });
    if (owner !== null) qb.andWhere('k.userId = :owner', { owner });
    const [found] = await this.read(qb);
    return found ?? null;
  }

  /** A user's keys (or, without `userId`, everyone's), with `scope` if given; newest first, after the cursor. */
  list(query: {
    userId?: string;
    scope?: Scope;
    after: { t: string; id: string } | null;
    limit: number;
  }): Promise<StoredApiKey[]> {
    const qb = this.select(this.keys.manager).where('true');
    if (query.userId !== undefined) qb.andWhere('k.userId = :userId', { userId: query.userId });
    if (query.scope !== undefined) qb.andWhere(':scope = ANY(k.permissions)', { scope: query.scope });
    if (query.after) qb.andWhere('(k.createdAt, k.id) < (CAST(:t AS timestamptz), CAST(:id AS uuid))', query.after);
    return this.read(qb.orderBy('k.createdAt', 'DESC').addOrderBy('k.id', 'DESC').limit(query.limit));
  }

  /**
   * One key (of `owner`, if given), locked until the transaction ends, so concurrent changes apply
   * one after the other. FOR NO KEY UPDATE: credit_key_spend's foreign key check is not held up.
   */
  lockForUpdate(manager: EntityManager, id: string, owner: string | null): Promise<ApiKey | null> {
    const qb = manager.getRepository(ApiKey).createQueryBuilder('k').setLock('for_no_key_update').where('k.id = :id', {
      id,
    });
    if (owner !== null) qb.andWhere('k.userId = :owner', { owner });
    return qb.getOne();
  }

  async update(manager: EntityManager, id: string, changes: ApiKeyChanges): Promise<StoredApiKey> {
    await manager.getRepository(ApiKey).update({ id }, changes);
    return (await this.find(manager, id, null))!;
  }

  /** Sets revoked_at unless already set; null when there is no such key (of `owner`). */
  async revoke(manager: EntityManager, id: string, owner: string | null): Promise<StoredApiKey | null> {
    const update = manager
      .createQueryBuilder()
      .update(ApiKey)
      .set({ revokedAt: () => 'COALESCE(revoked_at, now())' })
      .where('id = :id', { id });
    if (owner !== null) update.andWhere('user_id = :owner', { owner });
    const { affected } = await update.execute();
    return affected ? this.find(manager, id, owner) : null;
  }

  async findForAuthentication(manager: EntityManager, keyHash: Buffer): Promise<KeyLookup | null> {
    const rows: KeyLookup[] = await manager.query(
      `SELECT k.id, k.user_id AS "userId", k.permissions,
              k.revoked_at IS NOT NULL AS revoked,
              (k.expires_at IS NOT NULL AND k.expires_at <= now()) AS expired,
              (k.last_used IS NULL OR k.last_used < now() - interval '1 minute') AS "touchDue",
              u.email, u.username
         FROM api_keys k
         JOIN user_accounts u ON u.user_id = k.user_id
        WHERE k.key_hash = $1`,
      [keyHash],
    );
    return rows[0] ?? null;
  }

  /** Records a use, unless one was recorded in the last minute (by any instance). */
  async touch(id: string): Promise<void> {
    await this.keys
      .createQueryBuilder()
      .update()
      .set({ lastUsed: () => 'now()' })
      .where('id = :id', { id })
      .andWhere(`(last_used IS NULL OR last_used < now() - interval '1 minute')`)
      .execute();
  }

  private select(manager: EntityManager): SelectQueryBuilder<ApiKey> {
    return manager
      .getRepository(ApiKey)
      .createQueryBuilder('k')
      .addSelect('(k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > now()))', 'active')
      .addSelect(cursorTimestampSql('k.created_at'), 'cursor_t')
      .addSelect(SPENT_IN_PERIOD_SQL, 'spent_in_period')
      .addSelect('now()', 'db_now');
  }

  private async read(qb: SelectQueryBuilder<ApiKey>): Promise<StoredApiKey[]> {
    const { entities, raw } = await qb.getRawAndEntities<{
      active: boolean;
      cursor_t: string;
      spent_in_period: string | null;
      db_now: Date;
    }>();
    // One row per key (no joins), so entities and raw rows line up.
    return entities.map((key, i) => ({
      key,
      active: raw[i].active,
      cursorT: raw[i].cursor_t,
      spentInPeriod: raw[i].spent_in_period === null ? null : Number(raw[i].spent_in_period),
      now: raw[i].db_now,
    }));
  }

  /** A key's owner and whether it may still be used (for a service principal naming it); null if none. */
  async ownerOf(manager: EntityManager, id: string): Promise<{ userId: string; active: boolean } | null> {
    const rows: { userId: string; active: boolean }[] = await manager.query(
      `SELECT k.user_id AS "userId", k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > now()) AS active
         FROM api_keys k WHERE k.id = $1`,
      [id],
    );
    return rows[0] ?? null;
  }
}
