import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { EntityManager, Repository, SelectQueryBuilder } from 'typeorm';

import { chargedAccount } from '../accounts/account-ref.js';
import type { NamedKey } from '../accounts/payer.js';
import type { NamedKeys } from '../accounts/payer.service.js';
import type { ResolvedAccount } from '../auth/account-access.js';
import { ADMIN_ONLY_SCOPES, type AuthUser, knownScopes, type Scope } from '../auth/roles.js';
import { cursorTimestampSql } from '../common/http/pagination.js';
import { type Condition, queryPrepared } from '../database/statement-parts.js';
import type { InvalidKeyReason } from './dto/api-key.dto.js';
import { ApiKey } from './entities/api-key.entity.js';

/** A key as the routes show it, with what the database says about it now. */
export interface StoredApiKey {
  key: ApiKey;
  /** Not revoked and not expired, by the database's clock. */
  active: boolean;
  /** created_at with microseconds, for the keyset cursor (a JS Date would round it). */
  cursorT: string;
  /** Whether the key's owner (its creator) is an admin now. */
  creatorIsAdmin: boolean;
}

/** A presented key as authentication reads it, in one indexed lookup by hash. */
export interface KeyAuthentication {
  /**
   * The caller the key stands for: its owner with role `user`, limited to its scopes, its models
   * and, for a key of a membership, the organisation it charges (`orgId`).
   */
  caller: AuthUser & { apiKeyId: string; scopes: Scope[] };
  /**
   * Why it no longer authenticates (null: it does), the first that holds: revoked, expired, a key of a
   * membership whose owner left the org, a service key whose creator is no longer an admin.
   */
  refusal: InvalidKeyReason | null;
  /** `last_used` is older than a minute (or unset): worth recording this use. */
  touchDue: boolean;
}

export type NewApiKey = Pick<
  ApiKey,
  'userId' | 'name' | 'keyHash' | 'prefix' | 'permissions' | 'expiresAt' | 'orgId' | 'models' | 'portalSessionId'
>;

export type ApiKeyChanges = Partial<Pick<ApiKey, 'name' | 'models'>>;

/**
 * A key of a membership (k) whose owner is not an active member of its org any more: it stops working.
 * org_member_role()'s rule, written as an anti-join because it runs in every key's authentication lookup.
 */
/**
 * The keys `userId` holds and, with `account`, only those that charge it: a portal session's account,
 * as the one resolver gives it (src/accounts/account-resolver.ts), an org's (the keys of that
 * membership) or the user's own (the personal ones).
 */
function ownedBy<T extends object>(
  qb: SelectQueryBuilder<T>,
  userId: string,
  account: Pick<ResolvedAccount, 'kind' | 'ownerId'> | null,
): void {
  qb.andWhere(`k.userId = :ownerUserId`, { ownerUserId: userId });
  if (account === null) return;
  if (account.kind === 'org') qb.andWhere(`k.orgId = :ownerOrgId`, { ownerOrgId: account.ownerId });
  else qb.andWhere(`k.orgId IS NULL`);
}

const NOT_MEMBER_SQL = `(k.org_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM org_members m
  WHERE m.org_id = k.org_id AND m.user_id = k.user_id AND m.removed_at IS NULL))`;

/** api_keys: TypeORM for the key's own rows, SQL for the authentication lookup (a join, every request). */
@Injectable()
export class ApiKeysRepository implements NamedKeys {
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

  /** One key; with `userId`, only if it is that user's (and, `account` given, one that charges it). */
  async find(
    manager: EntityManager,
    id: string,
    userId: string | null,
    account: Pick<ResolvedAccount, 'kind' | 'ownerId'> | null = null,
  ): Promise<StoredApiKey | null> {
    const qb = this.select(manager).where('k.id = :id', { id });
    if (userId !== null) ownedBy(qb, userId, account);
    const [found] = await this.read(qb);
    return found ?? null;
  }

  /** A user's keys (or, without `userId`, everyone's), with `scope` if given; newest first, after the cursor. */
  list(query: {
    userId?: string;
    /** With `userId`, only the keys that charge this account (null or absent: all of theirs). */
    account?: Pick<ResolvedAccount, 'kind' | 'ownerId'> | null;
    scope?: Scope;
    after: { t: string; id: string } | null;
    limit: number;
  }): Promise<StoredApiKey[]> {
    const qb = this.select(this.keys.manager).where('true');
    if (query.userId !== undefined) ownedBy(qb, query.userId, query.account ?? null);
    if (query.scope !== undefined) qb.andWhere(':scope = ANY(k.permissions)', { scope: query.scope });
    if (query.after) qb.andWhere('(k.createdAt, k.id) < (CAST(:t AS timestamptz), CAST(:id AS uuid))', query.after);
    return this.read(qb.orderBy('k.createdAt', 'DESC').addOrderBy('k.id', 'DESC').limit(query.limit));
  }

  /**
   * One key (of `userId` and `account`, as find()), locked until the transaction ends, so concurrent changes apply
   * one after the other. FOR NO KEY UPDATE: foreign keys to the key are not held up. (A take locks
   * the key's cap row, which a change of its budget writes: the two wait for each other.)
   */
  lockForUpdate(
    manager: EntityManager,
    id: string,
    userId: string | null,
    account: Pick<ResolvedAccount, 'kind' | 'ownerId'> | null = null,
  ): Promise<ApiKey | null> {
    const qb = manager.getRepository(ApiKey).createQueryBuilder('k').setLock('for_no_key_update').where('k.id = :id', {
      id,
    });
    if (userId !== null) ownedBy(qb, userId, account);
    return qb.getOne();
  }

  async update(manager: EntityManager, id: string, changes: ApiKeyChanges): Promise<StoredApiKey> {
    if (Object.keys(changes).length > 0) await manager.getRepository(ApiKey).update({ id }, changes);
    return (await this.find(manager, id, null))!;
  }

  /** Sets revoked_at unless already set; null when there is no such key (the caller found it under its owner's lock). */
  async revoke(manager: EntityManager, id: string): Promise<StoredApiKey | null> {
    const update = manager
      .createQueryBuilder()
      .update(ApiKey)
      .set({ revokedAt: () => 'COALESCE(revoked_at, now())' })
      .where('id = :id', { id });
    const { affected } = await update.execute();
    return affected ? this.find(manager, id, null) : null;
  }

  /**
   * The keys of `keyHashes` that exist, each with its hash (`keyHash`), in one indexed lookup: the
   * lookups of keys presented together share it (src/api-keys/coalesced-key-lookups.ts).
   */
  async findForAuthentication(
    manager: EntityManager,
    keyHashes: Buffer[],
  ): Promise<(KeyAuthentication & { keyHash: Buffer })[]> {
    // Named: parsed and planned once per connection, as every statement of the hot routes is.
    const rows = await queryPrepared<{
      keyHash: Buffer;
      id: string;
      userId: string;
      permissions: string[];
      orgId: string | null;
      models: string[] | null;
      refusal: InvalidKeyReason | null;
      touchDue: boolean;
      email: string | null;
      username: string | null;
    }>(manager, 'api_key_authentication', {
      sql: `SELECT k.key_hash AS "keyHash", k.id, k.user_id AS "userId", k.permissions, k.org_id AS "orgId", k.models,
              CASE WHEN k.revoked_at IS NOT NULL THEN 'revoked'
                   WHEN k.expires_at IS NOT NULL AND k.expires_at <= now() THEN 'expired'
                   WHEN ${NOT_MEMBER_SQL} THEN 'not_a_member'
                   -- A service key's privilege is its creator's: it works only while they are an admin (a
                   -- demoted admin's key could otherwise still meter anyone and create and pay purchases).
                   WHEN k.permissions && $2::text[] AND u.role IS DISTINCT FROM 'admin' THEN 'creator_not_admin'
              END AS refusal,
              (k.last_used IS NULL OR k.last_used < now() - interval '1 minute') AS "touchDue",
              u.email, u.username
         FROM api_keys k
         JOIN user_accounts u ON u.user_id = k.user_id
        WHERE k.key_hash = ANY($1::bytea[])`,
      params: [keyHashes, ADMIN_ONLY_SCOPES],
    });
    return rows.map((row) => ({
      keyHash: row.keyHash,
      caller: {
        userId: row.userId,
        role: 'user',
        email: row.email,
        username: row.username,
        via: 'api-key',
        scopes: knownScopes(row.permissions),
        apiKeyId: row.id,
        ...(row.orgId === null ? {} : { orgId: row.orgId }),
        ...(row.models === null ? {} : { models: row.models }),
      },
      refusal: row.refusal,
      touchDue: row.touchDue,
    }));
  }

  /**
   * A condition (a part of another module's statement) true while key `id` would still pass the
   * authentication lookup above, with the same models list: not revoked, not expired, its owner
   * still a member, its creator still an admin for a service key. A statement that runs on a key
   * read earlier checks it so: a revocation or an expiry committed before that statement refuses it.
   */
  stillAuthenticates(id: string, models: string[] | null): Condition {
    const when = (key: string, scopes: string, keyModels: string) =>
      `EXISTS (SELECT 1 FROM api_keys k JOIN user_accounts u ON u.user_id = k.user_id
               WHERE k.id = ${key} AND k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > now())
                 AND NOT ${NOT_MEMBER_SQL}
                 AND NOT (k.permissions && ${scopes} AND u.role IS DISTINCT FROM 'admin')
                 AND k.models IS NOT DISTINCT FROM ${keyModels})`;
    return {
      sql: when('$1::uuid', '$2::text[]', '$3::text[]'),
      params: [id, ADMIN_ONLY_SCOPES, models],
      // Each item its own key and models list: keys of many callers checked in one statement.
      each: {
        sql: when('i.key_id', '$1::text[]', 'i.key_models'),
        params: [ADMIN_ONLY_SCOPES],
        columns: 'key_id uuid, key_models text[]',
        fields: { key_id: id, key_models: models },
      },
    };
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
      .addSelect(`(SELECT u.role = 'admin' FROM user_accounts u WHERE u.user_id = k.user_id)`, 'creator_is_admin');
  }

  private async read(qb: SelectQueryBuilder<ApiKey>): Promise<StoredApiKey[]> {
    const { entities, raw } = await qb.getRawAndEntities<{
      active: boolean;
      cursor_t: string;
      creator_is_admin: boolean | null;
    }>();
    // One row per key (no joins), so entities and raw rows line up.
    return entities.map((key, i) => ({
      key,
      active: raw[i].active,
      cursorT: raw[i].cursor_t,
      creatorIsAdmin: raw[i].creator_is_admin === true,
    }));
  }

  /**
   * A key's owner, its organisation, its models and whether it may still be used, for the payer of a
   * write whose service principal names it (src/accounts/payer.ts); null if none.
   */
  async ownerOf(manager: EntityManager, id: string): Promise<NamedKey | null> {
    const rows: { user_id: string; org_id: string | null; models: string[] | null; active: boolean }[] =
      await manager.query(
        `SELECT k.user_id, k.org_id, k.models,
                k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > now()) AS active
           FROM api_keys k WHERE k.id = $1`,
        [id],
      );
    const row = rows[0];
    return row ? { charges: chargedAccount(row.org_id, row.user_id), active: row.active, models: row.models } : null;
  }

  /** Revokes the keys created in a portal session; answers how many were still unrevoked. */
  async revokePortalSessionKeys(manager: EntityManager, sessionId: string): Promise<number> {
    const rows: unknown[] = await manager.query(
      `UPDATE api_keys SET revoked_at = now() WHERE portal_session_id = $1 AND revoked_at IS NULL RETURNING id`,
      [sessionId],
    );
    return rows.length;
  }

  /** Revokes the member's keys of the org (at their removal); answers how many were still unrevoked. */
  async revokeOrgKeys(manager: EntityManager, orgId: string, userId: string): Promise<number> {
    const rows: unknown[] = await manager.query(
      `UPDATE api_keys SET revoked_at = now() WHERE org_id = $1 AND user_id = $2 AND revoked_at IS NULL RETURNING id`,
      [orgId, userId],
    );
    return rows.length;
  }
}
