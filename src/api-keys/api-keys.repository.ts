import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { EntityManager, Repository, SelectQueryBuilder } from 'typeorm';

import { cursorTimestampSql } from '../common/http/pagination.js';
import { ApiKey } from './entities/api-key.entity.js';

/** A key as the routes show it, with what the database says about it now. */
export interface StoredApiKey {
  key: ApiKey;
  /** Not revoked and not expired, by the database's clock. */
  active: boolean;
  /** created_at with microseconds, for the keyset cursor (a JS Date would round it). */
  cursorT: string;
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

export type NewApiKey = Pick<ApiKey, 'userId' | 'name' | 'keyHash' | 'prefix' | 'permissions' | 'expiresAt'>;

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

  /** One key; with `owner`, only if it is that user's. */
  async find(manager: EntityManager, id: string, owner: string | null): Promise<StoredApiKey | null> {
    const qb = this.select(manager).where('k.id = :id', { id });
    if (owner !== null) qb.andWhere('k.userId = :owner', { owner });
    const [found] = await this.read(qb);
    return found ?? null;
  }

  /** A user's keys, newest first, after the keyset cursor. */
  list(query: { userId: string; after: { t: string; id: string } | null; limit: number }): Promise<StoredApiKey[]> {
    const qb = this.select(this.keys.manager).where('k.userId = :userId', { userId: query.userId });
    if (query.after) qb.andWhere('(k.createdAt, k.id) < (CAST(:t AS timestamptz), CAST(:id AS uuid))', query.after);
    return this.read(qb.orderBy('k.createdAt', 'DESC').addOrderBy('k.id', 'DESC').limit(query.limit));
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
      .addSelect(cursorTimestampSql('k.created_at'), 'cursor_t');
  }

  private async read(qb: SelectQueryBuilder<ApiKey>): Promise<StoredApiKey[]> {
    const { entities, raw } = await qb.getRawAndEntities<{ active: boolean; cursor_t: string }>();
    // One row per key (no joins), so entities and raw rows line up.
    return entities.map((key, i) => ({ key, active: raw[i].active, cursorT: raw[i].cursor_t }));
  }
}
