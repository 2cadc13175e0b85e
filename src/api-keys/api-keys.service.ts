import { Injectable, Logger, UnauthorizedException } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

import { assertMayAccessUser, mayAccessUser } from '../auth/access.js';
import { type AuthUser, type Scope, SCOPES } from '../auth/roles.js';
import { DomainError, NotFoundError } from '../common/errors/domain-error.js';
import { decodeTimeCursor, DEFAULT_LIMIT, type Page, toPage } from '../common/http/pagination.js';
import { toDate } from '../common/validation/dates.js';
import { Transactions } from '../database/transactions.js';
import { displayPrefix, generateApiKey, hashApiKey, looksLikeApiKey } from './api-key-secret.js';
import type {
  ApiKeyResponseDto,
  CreateApiKeyDto,
  CreatedApiKeyResponseDto,
  InvalidKeyReason,
  VerifyApiKeyResponseDto,
} from './dto/api-key.dto.js';

interface ApiKeyRow {
  id: string;
  user_id: string;
  name: string;
  prefix: string;
  permissions: string[];
  created_at: Date;
  expires_at: Date | null;
  revoked_at: Date | null;
  last_used: Date | null;
  active: boolean;
  /** created_at with microseconds (the keyset cursor must not round). */
  cursor_t: string;
}

/** What authentication needs, in one indexed lookup by hash. */
interface KeyLookupRow {
  id: string;
  user_id: string;
  permissions: string[];
  revoked: boolean;
  expired: boolean;
  touch_due: boolean;
  email: string | null;
  username: string | null;
}

type KeyCheck = { valid: true; row: KeyLookupRow } | { valid: false; reason: InvalidKeyReason };

const COLUMNS = `id, user_id, name, prefix, permissions, created_at, expires_at, revoked_at, last_used,
  (revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())) AS active,
  to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS cursor_t`;

/** `last_used` is written at most once a minute per key. */
const TOUCH_INTERVAL_MS = 60_000;
const TOUCH_MEMORY_LIMIT = 10_000;

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);

/** Unknown strings in the column (a scope since retired) grant nothing. */
const knownScopes = (values: string[]): Scope[] =>
  values.filter((v): v is Scope => (SCOPES as readonly string[]).includes(v));

function toDto(row: ApiKeyRow): ApiKeyResponseDto {
  return {
    id: row.id,
    userId: row.user_id,
    name: row.name,
    prefix: row.prefix,
    permissions: knownScopes(row.permissions),
    createdAt: row.created_at.toISOString(),
    expiresAt: iso(row.expires_at),
    lastUsed: iso(row.last_used),
    revokedAt: iso(row.revoked_at),
    isActive: row.active,
  };
}

@Injectable()
export class ApiKeysService {
  private readonly logger = new Logger('ApiKeys');
  /** key id → when this process last wrote its `last_used` (skips most writes without a query). */
  private readonly touched = new Map<string, number>();

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly tx: Transactions,
  ) {}

  async create(owner: AuthUser, dto: CreateApiKeyDto): Promise<CreatedApiKeyResponseDto> {
    let expiresAt: Date | null = null;
    if (dto.expiresAt !== undefined) {
      expiresAt = toDate(dto.expiresAt);
      if (Number.isNaN(expiresAt.getTime()) || expiresAt.getTime() <= Date.now()) {
        throw new DomainError('VALIDATION', 'expiresAt must be in the future');
      }
    }
    // Canonical order, no duplicates.
    const permissions = dto.permissions ? SCOPES.filter((s) => dto.permissions!.includes(s)) : [...SCOPES];
    const key = generateApiKey();
    // Joins the Idempotency-Key transaction when there is one: the key exists iff its response is stored.
    const rows: ApiKeyRow[] = await this.tx.run((manager) =>
      manager.query(
        `INSERT INTO api_keys (user_id, name, key_hash, prefix, permissions, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6)
         RETURNING ${COLUMNS}`,
        [owner.userId, dto.name, hashApiKey(key), displayPrefix(key), permissions, expiresAt],
      ),
    );
    const created = toDto(rows[0]);
    this.logger.log({ msg: 'api key created', keyId: created.id, userId: created.userId, prefix: created.prefix });
    return { ...created, key };
  }

  /** The caller's keys, or (admin) any user's; newest first, revoked and expired ones included. */
  async list(
    caller: AuthUser,
    query: { userId?: string; limit?: number; cursor?: string },
  ): Promise<Page<ApiKeyResponseDto>> {
    const userId = query.userId ?? caller.userId;
    assertMayAccessUser(caller, userId, 'API keys', 'admin');
    const limit = query.limit ?? DEFAULT_LIMIT;
    const after = decodeTimeCursor(query.cursor, 'uuid');
    const params: unknown[] = [userId];
    let keyset = '';
    if (after) {
      params.push(after.t, after.id);
      keyset = `AND (created_at, id) < ($2::timestamptz, $3::uuid)`;
    }
    params.push(limit + 1);
    const rows: ApiKeyRow[] = await this.dataSource.query(
      `SELECT ${COLUMNS} FROM api_keys
        WHERE user_id = $1 ${keyset}
        ORDER BY created_at DESC, id DESC
        LIMIT $${params.length}`,
      params,
    );
    return toPage(rows, limit, toDto, (r) => ({ t: r.cursor_t, id: r.id }));
  }

  async get(caller: AuthUser, id: string): Promise<ApiKeyResponseDto> {
    const rows: ApiKeyRow[] = await this.dataSource.query(
      `SELECT ${COLUMNS} FROM api_keys WHERE id = $1 AND ($2::varchar IS NULL OR user_id = $2)`,
      [id, this.ownerFilter(caller)],
    );
    if (rows.length === 0) throw new NotFoundError('API key');
    return toDto(rows[0]);
  }

  /** Revokes at once (the next request with the key is refused); revoking again changes nothing. */
  async revoke(caller: AuthUser, id: string): Promise<ApiKeyResponseDto> {
    const rows: ApiKeyRow[] = await this.tx.run((manager) =>
      manager.query(
        // Wrapped in a SELECT: TypeORM answers a bare UPDATE with [rows, count].
        `WITH revoked AS (
           UPDATE api_keys SET revoked_at = COALESCE(revoked_at, now())
            WHERE id = $1 AND ($2::varchar IS NULL OR user_id = $2)
            RETURNING *)
         SELECT ${COLUMNS} FROM revoked`,
        [id, this.ownerFilter(caller)],
      ),
    );
    if (rows.length === 0) throw new NotFoundError('API key');
    const revoked = toDto(rows[0]);
    this.logger.log({ msg: 'api key revoked', keyId: revoked.id, userId: revoked.userId, by: caller.userId });
    return revoked;
  }

  /**
   * The X-API-Key strategy: looked up by hash on every request (nothing cached, so a revocation
   * takes effect on the next request). The key acts as its owner with role `user`, within its scopes.
   */
  async authenticate(key: string): Promise<AuthUser> {
    const check = await this.check(key);
    if (!check.valid) {
      throw new UnauthorizedException(
        check.reason === 'revoked'
          ? 'API key revoked'
          : check.reason === 'expired'
            ? 'API key expired'
            : 'Invalid API key',
      );
    }
    const { row } = check;
    return {
      userId: row.user_id,
      role: 'user',
      email: row.email,
      username: row.username,
      via: 'api-key',
      scopes: knownScopes(row.permissions),
      apiKeyId: row.id,
    };
  }

  /** For other services holding a key on a user's behalf (POST /api/api-keys/verify). */
  async verify(key: string): Promise<VerifyApiKeyResponseDto> {
    const check = await this.check(key);
    if (!check.valid) return { valid: false, reason: check.reason };
    return {
      valid: true,
      keyId: check.row.id,
      userId: check.row.user_id,
      permissions: knownScopes(check.row.permissions),
    };
  }

  private async check(key: string): Promise<KeyCheck> {
    if (!looksLikeApiKey(key)) return { valid: false, reason: 'unknown' };
    // Inside a request's Idempotency-Key transaction (verify) this joins it: no second connection.
    const rows: KeyLookupRow[] = await this.tx.statementManager.query(
      `SELECT k.id, k.user_id, k.permissions,
              k.revoked_at IS NOT NULL AS revoked,
              (k.expires_at IS NOT NULL AND k.expires_at <= now()) AS expired,
              (k.last_used IS NULL OR k.last_used < now() - interval '1 minute') AS touch_due,
              u.email, u.username
         FROM api_keys k
         JOIN user_accounts u ON u.user_id = k.user_id
        WHERE k.key_hash = $1`,
      [hashApiKey(key)],
    );
    const row = rows[0];
    if (!row) return { valid: false, reason: 'unknown' };
    if (row.revoked) return { valid: false, reason: 'revoked' };
    if (row.expired) return { valid: false, reason: 'expired' };
    if (row.touch_due) this.touch(row.id);
    return { valid: true, row };
  }

  /**
   * Records the key's use without delaying the request: fire-and-forget, at most once a minute per
   * key (the in-memory map skips bursts, the WHERE clause other instances' recent writes).
   */
  private touch(id: string): void {
    const now = Date.now();
    const last = this.touched.get(id);
    if (last !== undefined && now - last < TOUCH_INTERVAL_MS) return;
    this.touched.delete(id);
    if (this.touched.size >= TOUCH_MEMORY_LIMIT) this.touched.delete(this.touched.keys().next().value as string);
    this.touched.set(id, now);
    this.dataSource
      .query(
        `UPDATE api_keys SET last_used = now()
          WHERE id = $1 AND (last_used IS NULL OR last_used < now() - interval '1 minute')`,
        [id],
      )
      .catch((error: unknown) => {
        this.logger.warn({
          msg: 'could not record API key use',
          keyId: id,
          err: error instanceof Error ? error.message : String(error),
        });
      });
  }

  /** Admins see every key; everyone else only their own (another user's key is "not found"). */
  private ownerFilter(caller: AuthUser): string | null {
    return mayAccessUser(caller, undefined, 'admin') ? null : caller.userId;
  }
}
