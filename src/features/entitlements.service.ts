import { Inject, Injectable } from '@nestjs/common';

import { AuditService } from '../audit/audit.service.js';
import { ACCOUNT_ACCESS, type AccountAccess, type AccountRule, type ResolvedAccount } from '../auth/account-access.js';
import { type BodyNamed, NO_BODY_RULE } from '../auth/auth.decorator.js';
import { isServicePrincipal } from '../auth/metering.js';
import type { AuthUser } from '../auth/roles.js';
import { CLOCK, type Clock } from '../common/clock.js';
import { AccountErasedError, DomainError, NotFoundError } from '../common/errors/domain-error.js';
import { decodeIdCursor, DEFAULT_LIMIT, type Page, toPage } from '../common/http/pagination.js';
import { Transactions } from '../database/transactions.js';
import { CoalescedChecks } from './coalesced-checks.js';
import type {
  CheckEntitlementDto,
  CheckEntitlementResponseDto,
  EntitlementResponseDto,
  SetEntitlementDto,
} from './dto/entitlements.dto.js';
import { type CheckRow, type EntitlementRow, FeaturesRepository } from './features.repository.js';
import { type ConfigGrant, grantProblem, type MeteredGrant } from './grants.js';

/** Who checks an account's features: service principals and staff any account's, a user their own, a member their org's. */
export const CHECKERS: AccountRule = { user: 'holder', org: 'member', services: true, what: 'check its features' };
/** Who reads an account's entitlements: staff, the user, the org's members (portal tokens: their session's). */
export const ENTITLEMENT_READERS: AccountRule = { user: 'holder', org: 'member', what: 'read its features' };
/** Who sets an override: staff (supervisor and up). */
export const OVERRIDE_SETTERS: AccountRule = { user: 'staff', org: 'staff', write: true };

/**
 * Grants and checks (docs/features.md): an account's overrides, its entitlements, and the check, which
 * reads the grants as committed (no cache) and consumes a metered feature through the credits module
 * under the account's lock, in one statement shared by the checks that arrive together.
 */
@Injectable()
export class EntitlementsService {
  constructor(
    private readonly repo: FeaturesRepository,
    @Inject(Transactions) private readonly tx: Transactions,
    @Inject(AuditService) private readonly audit: AuditService,
    @Inject(ACCOUNT_ACCESS) private readonly access: AccountAccess,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly coalesced: CoalescedChecks,
  ) {}

  /** `named`: the account the body names, as the access guard resolved it under OVERRIDE_SETTERS. */
  async setOverride(
    caller: AuthUser,
    featureKey: string,
    dto: SetEntitlementDto,
    named: BodyNamed,
  ): Promise<EntitlementResponseDto> {
    if ((dto.userId === undefined) === (dto.orgId === undefined))
      throw new DomainError('VALIDATION', 'Give exactly one of userId and orgId');
    const account = named.take();
    if (!account) throw new NotFoundError(dto.orgId !== undefined ? 'Org' : 'User');
    return this.tx.run(async (m) => {
      // Separation of duties, as for grants: an override is worth credits (a metered allowance), so a
      // supervisor sets none for their own account or an org they belong to (membership read now).
      await this.access.forGrant(caller, account, 'override', m);
      const feature = await this.repo.find(m, featureKey);
      if (!feature) throw new NotFoundError('Feature');
      const problem = dto.grant === null ? null : grantProblem(feature.type, dto.grant);
      if (problem) throw new DomainError('GRANT_INVALID', `grant: ${problem}`);
      const old = await this.repo.findOverride(m, account.accountId, featureKey);
      if (dto.grant === null) await this.repo.removeOverride(m, account.accountId, featureKey);
      else await this.repo.setOverride(m, account.accountId, featureKey, dto.grant, caller.userId);
      await this.audit.record(m, {
        action: 'entitlement.set',
        targetId: account.ownerId,
        targetType: account.kind,
        before: { featureKey, grant: old ? old.grant : null },
        after: { featureKey, grant: dto.grant },
      });
      const [row] = await this.repo.entitlements(m, {
        accountId: account.accountId,
        afterKey: null,
        limit: 1,
        at: new Date(this.clock.now()),
        only: featureKey,
      });
      return toEntitlementDto(row);
    });
  }

  /** The account the route names, else the caller's own, as the access guard resolved it. */
  async list(
    account: ResolvedAccount,
    query: { limit?: number; cursor?: string },
  ): Promise<Page<EntitlementResponseDto>> {
    const limit = query.limit ?? DEFAULT_LIMIT;
    const after = decodeIdCursor(query.cursor, 'text');
    const rows = await this.repo.entitlements(this.tx.statementManager, {
      accountId: account.accountId,
      afterKey: after?.id ?? null,
      limit: limit + 1,
      at: new Date(this.clock.now()),
    });
    return toPage(rows, limit, toEntitlementDto, (r) => ({ id: r.featureKey }));
  }

  /**
   * `own`: the caller's own account as the access guard resolved it, checked when the body names none;
   * `inBody`: the one the body names, as the guard resolved it under CHECKERS; `erased`: the erased
   * users the request names, as the guard read them (NamedErased).
   */
  async check(
    caller: AuthUser,
    own: ResolvedAccount,
    dto: CheckEntitlementDto,
    inBody: BodyNamed = NO_BODY_RULE,
    erased: ReadonlySet<string> = new Set(),
  ): Promise<CheckEntitlementResponseDto> {
    if (dto.eventId !== undefined && dto.consume === undefined)
      throw new DomainError('VALIDATION', 'eventId is given with consume only');
    // One named in the body: the rule's answer, taken here, after the body's own checks.
    let account = own;
    if (dto.userId !== undefined || dto.orgId !== undefined) {
      const named = inBody.take();
      if (!named) throw new NotFoundError(dto.orgId !== undefined ? 'Org' : 'User');
      account = named;
    }
    const accountId = account.accountId;
    if (dto.consume !== undefined) {
      if (account.kind === 'org') assertMaySpendFor(caller);
      // Consuming is a write: an erased person's account uses nothing (docs/erasure.md "After an erasure").
      if (account.kind === 'user' && erased.has(account.ownerId)) throw new AccountErasedError(409);
    }
    const query = {
      accountId,
      featureKey: dto.featureKey,
      consume: dto.consume ?? null,
      eventId: dto.eventId ?? null,
      at: new Date(this.clock.now()),
    };
    // Inside a request's transaction (an Idempotency-Key) the check is its own statement in it.
    const row = this.tx.inTransaction
      ? (await this.repo.checks(this.tx.statementManager, [query]))[0]
      : await this.coalesced.check(query);
    if (!row) throw new NotFoundError(account.kind === 'org' ? 'Org' : 'User');
    if (dto.consume !== undefined && row.type !== null && row.type !== 'metered')
      throw new DomainError(
        'FEATURE_NOT_METERED',
        `Feature ${dto.featureKey} is ${row.type}: only metered features consume`,
      );
    if (row.eventIdReused)
      throw new DomainError(
        'EVENT_ID_REUSED',
        `eventId ${dto.eventId} was used with another consume: an eventId names one use, retried with its own body`,
      );
    return answer(dto.featureKey, row);
  }
}

/**
 * Consuming an org's metered feature spends an allowance the org pays for, so it needs what metering
 * for the org needs: a member (every org role may spend from the org) or staff, through a JWT, a
 * service key, or a key with `usage:write`; a read-only key (`credits:read`, the route's scope) only
 * reads. A user's own account is theirs to spend with either.
 */
function assertMaySpendFor(caller: AuthUser): void {
  if (caller.via !== 'api-key' || isServicePrincipal(caller) || caller.scopes?.includes('usage:write')) return;
  throw new DomainError(
    'FORBIDDEN',
    'API key lacks the scope usage:write: consuming an organisation’s feature spends its allowance',
  );
}

/** The check's answer from what its statement read or decided. */
function answer(featureKey: string, row: CheckRow): CheckEntitlementResponseDto {
  if (row.type === null) return { featureKey, type: null, allowed: false, reason: 'unknown_feature' };
  const refused = { featureKey, type: row.type, allowed: false, reason: 'not_granted' as const };
  const resetsAt = row.resetsAt ? row.resetsAt.toISOString() : null;
  if (row.consumed) {
    const { allowed, used, limit } = row.consumed;
    return {
      featureKey,
      type: 'metered',
      allowed,
      ...(allowed ? {} : { reason: 'limit_reached' as const }),
      limit,
      used,
      remaining: Math.max(limit - used, 0),
      resetsAt,
    };
  }
  if (row.grant === null) return refused;
  switch (row.type) {
    case 'boolean':
      return row.grant === true ? { featureKey, type: row.type, allowed: true } : refused;
    case 'config':
      return { featureKey, type: row.type, allowed: true, value: (row.grant as ConfigGrant).value };
    case 'metered': {
      const { limit } = row.grant as MeteredGrant;
      const used = row.used ?? 0;
      const remaining = Math.max(limit - used, 0);
      return {
        featureKey,
        type: row.type,
        allowed: remaining > 0,
        ...(remaining > 0 ? {} : { reason: 'limit_reached' as const }),
        limit,
        used,
        remaining,
        resetsAt,
      };
    }
  }
}

export function toEntitlementDto(row: EntitlementRow): EntitlementResponseDto {
  const base = { featureKey: row.featureKey, name: row.name, type: row.type, grant: row.grant, source: row.source };
  if (row.type !== 'metered' || row.grant === null || row.used === null) return base;
  const { limit } = row.grant as MeteredGrant;
  return {
    ...base,
    used: row.used,
    remaining: Math.max(limit - row.used, 0),
    resetsAt: row.resetsAt ? new Date(row.resetsAt).toISOString() : null,
  };
}
