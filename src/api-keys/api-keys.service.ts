import { Inject, Injectable, Logger, UnauthorizedException } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

import { AuditService } from '../audit/audit.service.js';
import { isStaff, type ResolvedAccount } from '../auth/account-access.js';
import type { PortalSessionRead, Taken } from '../auth/auth.decorator.js';
import { ADMIN_ONLY_SCOPES, type AuthUser, DEFAULT_SCOPES, type Scope, SCOPES } from '../auth/roles.js';
import { BoundedMap } from '../common/bounded-map.js';
import { CLOCK, type Clock } from '../common/clock.js';
import { DomainError, NotFoundError } from '../common/errors/domain-error.js';
import { decodeTimeCursor, DEFAULT_LIMIT, type Page, toPage } from '../common/http/pagination.js';
import { toDate } from '../common/validation/dates.js';
import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { Transactions } from '../database/transactions.js';
import { CreditAccountsService } from '../engine/credit-accounts.service.js';
import { displayPrefix, generateApiKey, hashApiKey, looksLikeApiKey } from './api-key-secret.js';
import { budgetOf, isServiceKey, type KeyView, toDto } from './api-key-view.js';
import { ApiKeysRepository, type KeyAuthentication, type StoredApiKey } from './api-keys.repository.js';
import { CoalescedKeyLookups } from './coalesced-key-lookups.js';
import type {
  ApiKeyResponseDto,
  CreateApiKeyDto,
  CreatedApiKeyResponseDto,
  InvalidKeyReason,
  UpdateApiKeyDto,
  VerifyApiKeyResponseDto,
} from './dto/api-key.dto.js';
import type { ApiKey } from './entities/api-key.entity.js';
import { budgetAfter, type KeyBudget } from './key-budget.js';
import { boundedExpiry } from './key-expiry.js';

/**
 * Whose key changes the audit log records: a service key's, whoever changes it (its owner too, also
 * once an admin no more), and any change made to another user's key. A user managing their own
 * ordinary keys is not audited.
 */
function auditedKeyChange(caller: AuthUser, key: ApiKey): boolean {
  return key.userId !== caller.userId || isServiceKey(key);
}

type KeyCheck = { valid: true; caller: KeyAuthentication['caller'] } | { valid: false; reason: InvalidKeyReason };

/** `last_used` is written at most once a minute per key. */
const TOUCH_INTERVAL_MS = 60_000;
const TOUCH_MEMORY_LIMIT = 10_000;

@Injectable()
export class ApiKeysService {
  private readonly logger = new Logger('ApiKeys');
  /** key id → when this process last wrote its `last_used` (skips most writes without a query). */
  private readonly touched = new BoundedMap<string, number>(TOUCH_MEMORY_LIMIT);
  /** The `last_used` writes still running (requests do not wait for them). */
  private readonly touching = new Set<Promise<void>>();

  constructor(
    private readonly keys: ApiKeysRepository,
    private readonly tx: Transactions,
    @Inject(APP_CONFIG)
    private readonly config: Pick<AppConfig, 'maxApiKeysPerUser' | 'serviceKeyMaxDays' | 'portal'>,
    @Inject(AuditService) private readonly audit: AuditService,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(CreditAccountsService) private readonly caps: CreditAccountsService,
    @Inject(CoalescedKeyLookups) private readonly lookups: CoalescedKeyLookups,
  ) {}

  /** The keys with their budgets (one read of the credits module's caps). */
  private async withCaps(manager: EntityManager, stored: StoredApiKey[]): Promise<KeyView[]> {
    const ids = stored.map((s) => s.key.id);
    const caps = await this.caps.keyCaps(manager, ids);
    return stored.map((s) => ({ ...s, cap: caps.get(s.key.id) ?? null }));
  }

  private async viewOf(manager: EntityManager, stored: StoredApiKey): Promise<KeyView> {
    return (await this.withCaps(manager, [stored]))[0];
  }

  /** Sets the key's budget in the credits module (null limit: none). */
  private setBudget(manager: EntityManager, key: ApiKey, budget: KeyBudget): Promise<void> {
    return this.caps.setKeyCap(
      manager,
      key.id,
      key.userId,
      budget.creditLimit === null ? null : { credits: budget.creditLimit, period: budget.limitPeriod! },
    );
  }

  /**
   * `read`: the caller's portal session, and `forOrg` the org the body names (or a portal token's own
   * account), as the access guard read them under the one rule (KEY_CREATORS).
   */
  async create(
    owner: AuthUser,
    dto: CreateApiKeyDto,
    read: Taken<PortalSessionRead>,
    forOrg: Taken<ResolvedAccount | null>,
  ): Promise<CreatedApiKeyResponseDto> {
    let expiresAt: Date | null = null;
    if (dto.expiresAt !== undefined) {
      expiresAt = toDate(dto.expiresAt);
      if (Number.isNaN(expiresAt.getTime()) || expiresAt.getTime() <= this.clock.now()) {
        throw new DomainError('VALIDATION', 'expiresAt must be in the future');
      }
    }
    const budget = budgetAfter({ creditLimit: null, limitPeriod: null }, dto);
    // Canonical order, no duplicates.
    const permissions = dto.permissions ? SCOPES.filter((s) => dto.permissions!.includes(s)) : [...DEFAULT_SCOPES];
    const adminOnly = permissions.filter((s) => ADMIN_ONLY_SCOPES.includes(s));
    if (adminOnly.length > 0 && owner.role !== 'admin')
      throw new DomainError('FORBIDDEN', `Only an admin may create a key with ${adminOnly.join(', ')}`);
    // Service keys age (docs/operations.md "Giving the chat backend its service key"), and so do keys
    // made with a portal token, a token meant for a browser (docs/portal.md).
    if (adminOnly.length > 0)
      expiresAt = boundedExpiry(expiresAt, this.clock.now(), {
        days: this.config.serviceKeyMaxDays,
        what: 'A service key (usage:ingest)',
        setting: 'SERVICE_KEY_MAX_DAYS',
      });
    // A portal token's session, as the one access rule reads it (null: not made through the portal).
    const session = read.take();
    if (session)
      expiresAt = boundedExpiry(expiresAt, this.clock.now(), {
        days: this.config.portal.keyMaxDays,
        what: 'A key created through the portal',
        setting: 'PORTAL_KEY_MAX_DAYS',
      });
    const key = generateApiKey();
    // Joins the Idempotency-Key transaction when there is one: the key exists iff its response is stored.
    const stored = await this.tx.run(async (manager) => {
      // A key of a membership: its creator must be an active member; a portal token its session's only.
      if (dto.orgId !== undefined || session) forOrg.take();
      const held = await this.keys.countActiveForCreate(manager, owner.userId);
      if (held >= this.config.maxApiKeysPerUser) {
        throw new DomainError(
          'API_KEY_QUOTA',
          `At most ${this.config.maxApiKeysPerUser} active API keys per user: revoke one first`,
        );
      }
      const inserted = await this.keys.insert(manager, {
        userId: owner.userId,
        name: dto.name,
        keyHash: hashApiKey(key),
        prefix: displayPrefix(key),
        permissions,
        expiresAt,
        orgId: dto.orgId ?? null,
        models: dto.models ?? null,
        portalSessionId: session?.sessionId ?? null,
      });
      if (budget.creditLimit !== null) await this.setBudget(manager, inserted.key, budget);
      const view = await this.viewOf(manager, inserted);
      // Through the portal: a token that may sit in a browser made it, so it is audited too.
      if (adminOnly.length > 0 || session) await this.audited(manager, 'api_key.create', null, view);
      return view;
    });
    const created = toDto(stored);
    this.logger.log({ msg: 'api key created', keyId: created.id, userId: created.userId, prefix: created.prefix });
    return { ...created, key };
  }

  /**
   * Revokes the keys created in a portal session (when it is ended); answers how many were still
   * unrevoked. Run in the transaction that ends it.
   */
  revokePortalSessionKeys(manager: EntityManager, sessionId: string): Promise<number> {
    return this.keys.revokePortalSessionKeys(manager, sessionId);
  }

  /**
   * The caller's keys, or (admin) any user's; newest first, revoked and expired ones included. With
   * `scope` (admin): the keys holding it, of every owner unless `userId` names one (service keys:
   * `scope=usage:ingest`). `reach`: the account whose keys a portal session reaches, as the edge read
   * it from the token (KeysAccount; null: every key of theirs), as for get, update and revoke.
   */
  async list(
    caller: AuthUser,
    query: { userId?: string; scope?: Scope; limit?: number; cursor?: string },
    reach: Pick<ResolvedAccount, 'kind' | 'ownerId'> | null,
  ): Promise<Page<ApiKeyResponseDto>> {
    if (query.scope !== undefined && !isStaff(caller, 'admin'))
      throw new DomainError('FORBIDDEN', 'Only admins may list keys by scope');
    // Whose keys a caller may name the access rule decided (src/auth/account-access.ts); a portal
    // session reaches its account's only.
    const userId = query.scope !== undefined ? query.userId : (query.userId ?? caller.userId);
    const limit = query.limit ?? DEFAULT_LIMIT;
    const after = decodeTimeCursor(query.cursor, 'uuid');
    const rows = await this.keys.list({ userId, account: reach, scope: query.scope, after, limit: limit + 1 });
    const views = await this.withCaps(this.tx.statementManager, rows);
    return toPage(views, limit, toDto, (r) => ({ t: r.cursorT, id: r.key.id }));
  }

  async get(
    caller: AuthUser,
    id: string,
    reach: Pick<ResolvedAccount, 'kind' | 'ownerId'> | null,
  ): Promise<ApiKeyResponseDto> {
    const manager = this.tx.statementManager;
    const found = await this.keys.find(manager, id, this.holder(caller), reach);
    if (!found) throw new NotFoundError('API key');
    return toDto(await this.viewOf(manager, found));
  }

  /**
   * Renames the key or changes its budget. Credits spent in the current period stay counted (the
   * counter is the credits module's and is left alone); a new period counts from its own start.
   */
  async update(
    caller: AuthUser,
    id: string,
    dto: UpdateApiKeyDto,
    reach: Pick<ResolvedAccount, 'kind' | 'ownerId'> | null,
  ): Promise<ApiKeyResponseDto> {
    if (
      dto.name === undefined &&
      dto.creditLimit === undefined &&
      dto.limitPeriod === undefined &&
      dto.models === undefined
    ) {
      throw new DomainError('VALIDATION', 'Give at least one of name, creditLimit, limitPeriod, models');
    }
    const stored = await this.tx.run(async (manager) => {
      const key = await this.keys.lockForUpdate(manager, id, this.holder(caller), reach);
      if (!key) throw new NotFoundError('API key');
      const before = await this.viewOf(manager, (await this.keys.find(manager, id, null))!);
      const current = budgetOf(before.cap);
      const budget = budgetAfter(current, dto);
      if (budget.creditLimit !== current.creditLimit || budget.limitPeriod !== current.limitPeriod)
        await this.setBudget(manager, key, budget);
      const updated = await this.keys.update(manager, id, {
        ...(dto.name === undefined ? {} : { name: dto.name }),
        ...(dto.models === undefined ? {} : { models: dto.models }),
      });
      const after = await this.viewOf(manager, updated);
      if (auditedKeyChange(caller, key)) await this.audited(manager, 'api_key.update', before, after);
      return after;
    });
    const updated = toDto(stored);
    this.logger.log({
      msg: 'api key updated',
      keyId: updated.id,
      userId: updated.userId,
      by: caller.userId,
      creditLimit: updated.creditLimit,
      limitPeriod: updated.limitPeriod,
    });
    return updated;
  }

  /** Revokes at once (the next request with the key is refused); revoking again changes nothing. */
  async revoke(
    caller: AuthUser,
    id: string,
    reach: Pick<ResolvedAccount, 'kind' | 'ownerId'> | null,
  ): Promise<ApiKeyResponseDto> {
    const found = await this.tx.run(async (manager) => {
      const key = await this.keys.lockForUpdate(manager, id, this.holder(caller), reach);
      if (!key) return null;
      const before = await this.viewOf(manager, (await this.keys.find(manager, id, null))!);
      const after = await this.viewOf(manager, (await this.keys.revoke(manager, id))!);
      if (key.revokedAt === null && auditedKeyChange(caller, key)) {
        await this.audited(manager, 'api_key.revoke', before, after);
      }
      return after;
    });
    if (!found) throw new NotFoundError('API key');
    const revoked = toDto(found);
    this.logger.log({ msg: 'api key revoked', keyId: revoked.id, userId: revoked.userId, by: caller.userId });
    return revoked;
  }

  private audited(
    manager: EntityManager,
    action: 'api_key.create' | 'api_key.update' | 'api_key.revoke',
    before: KeyView | null,
    after: KeyView | null,
  ): Promise<void> {
    const stored = (after ?? before)!;
    return this.audit.record(manager, {
      action,
      targetId: stored.key.id,
      before: before && toDto(before),
      after: after && toDto(after),
      whoever: isServiceKey(stored.key) || stored.key.portalSessionId !== null,
    });
  }

  /**
   * The X-API-Key strategy: looked up by hash on every request, in a statement that starts after the
   * request arrived (nothing cached, so a revocation takes effect on the next request). The key acts
   * as its owner with role `user`, within its scopes.
   */
  async authenticate(key: string): Promise<AuthUser> {
    const check = await this.check(key);
    if (!check.valid) {
      throw new UnauthorizedException(
        check.reason === 'revoked'
          ? 'API key revoked'
          : check.reason === 'expired'
            ? 'API key expired'
            : check.reason === 'not_a_member'
              ? 'API key of an organisation its owner is no longer a member of'
              : check.reason === 'creator_not_admin'
                ? 'Service key of a creator who is no longer an admin'
                : 'Invalid API key',
      );
    }
    return check.caller;
  }

  /**
   * A member removed from an org (in the removal's transaction): their keys of that org are revoked,
   * so they stay dead if the member is added again (a key is a credential given for one membership).
   */
  revokeOrgKeys(manager: EntityManager, orgId: string, userId: string): Promise<number> {
    return this.keys.revokeOrgKeys(manager, orgId, userId);
  }

  /** For other services holding a key on a user's behalf (POST /api/api-keys/verify). */
  async verify(key: string): Promise<VerifyApiKeyResponseDto> {
    const check = await this.check(key);
    if (!check.valid) return { valid: false, reason: check.reason };
    return {
      valid: true,
      keyId: check.caller.apiKeyId,
      userId: check.caller.userId,
      permissions: check.caller.scopes,
      orgId: check.caller.orgId ?? null,
    };
  }

  private async check(key: string): Promise<KeyCheck> {
    if (!looksLikeApiKey(key)) return { valid: false, reason: 'unknown' };
    const found = await this.lookups.find(hashApiKey(key));
    if (!found) return { valid: false, reason: 'unknown' };
    if (found.refusal !== null) return { valid: false, reason: found.refusal };
    if (found.touchDue) this.touch(found.caller.apiKeyId);
    return { valid: true, caller: found.caller };
  }

  /** A use of key `id` authenticated earlier (src/api-keys/recent-keys.ts), recorded as check() does. */
  used(id: string): void {
    this.touch(id);
  }

  /**
   * Records the key's use without delaying the request: fire-and-forget, at most once a minute per
   * key (the in-memory map skips bursts, the WHERE clause other instances' recent writes).
   */
  private touch(id: string): void {
    const now = this.clock.now();
    const last = this.touched.get(id);
    if (last !== undefined && now - last < TOUCH_INTERVAL_MS) return;
    this.touched.set(id, now);
    const write: Promise<void> = this.keys
      .touch(id)
      .catch((error: unknown) => {
        this.logger.warn({
          msg: 'could not record API key use',
          keyId: id,
          err: error instanceof Error ? error.message : String(error),
        });
      })
      .finally(() => this.touching.delete(write));
    this.touching.add(write);
  }

  /** Resolves once every `last_used` write started so far has finished (tests observe them so). */
  async touchesSettled(): Promise<void> {
    await Promise.all(this.touching);
  }

  /**
   * Whose keys the caller reaches: admins every key (null); others their own (another's is "not
   * found"), a portal session only those of its account (the resolver's `keysAccount`).
   */
  private holder(caller: AuthUser): string | null {
    return isStaff(caller, 'admin') ? null : caller.userId;
  }
}
