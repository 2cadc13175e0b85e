import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

import { AccountsService } from '../accounts/accounts.service.js';
import type { AccountKind } from '../accounts/entities/account.entity.js';
import type { AccountRule, ResolvedAccount, WriteNeed } from '../auth/account-access.js';
import type { BodyNamed, Taken } from '../auth/auth.decorator.js';
import { isServicePrincipal } from '../auth/metering.js';
import type { AuthUser } from '../auth/roles.js';
import { Changes } from '../changes/changes.js';
import { DomainError, NotFoundError } from '../common/errors/domain-error.js';
import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { CreditsService } from '../engine/credits.service.js';
import { namedInEvent } from '../events/event-types.js';
import type { RedeemPromotionDto, RedemptionResponseDto } from './dto/promotions.dto.js';
import type { Promotion } from './entities/promotion.entity.js';
import { PROMOTION_NOT_FOUND_MESSAGE } from './promotion-views.js';
import { PromotionsRepository } from './promotions.repository.js';

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
/** The refusals a guesser learns something from: they count against the hour's limit. */
const REFUSALS = new Set([403, 404, 409]);
/** Who may redeem for an org a body names: its owners and admins; a service principal any existing org. */
export const REDEEMING_MANAGERS: WriteNeed = {
  member: true,
  org: 'manager',
  what: 'redeem codes for it',
  services: true,
};
/** The user a body names: the caller themself, or any user for a service principal (which alone may name another). */
export const REDEEMING_USERS: AccountRule = { user: 'holder', services: true };

/**
 * The accounts a redemption may be for, as the access guard read them before the service decides:
 * the org the body names (or a portal session's account) under REDEEMING_MANAGERS (`forOrg`; null
 * when the body names no org and the caller holds no portal token); the user the body names under
 * REDEEMING_USERS (`named`); the caller's own user account (`own`; null: none yet).
 */
export interface RedemptionReach {
  forOrg: Taken<ResolvedAccount | null>;
  named: BodyNamed;
  own: ResolvedAccount | null;
}

/**
 * Redeeming a promotion code (docs/selling.md). The code's row is locked first, then (in the grant)
 * the account: every redemption of a code is decided and counted one at a time, so parallel
 * redemptions never pass `maxRedemptions` or `perAccount`. Refusals are counted per account and per
 * calling principal in statements of their own; past a counter's limit in an hour, 429 until that
 * hour ends.
 */
@Injectable()
export class PromotionRedemptionsService {
  constructor(
    private readonly repo: PromotionsRepository,
    @Inject(CreditsService) private readonly credits: CreditsService,
    @Inject(Changes) private readonly changes: Changes,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(AccountsService) private readonly accounts: AccountsService,
  ) {}

  async redeem(caller: AuthUser, body: RedeemPromotionDto, accounts: RedemptionReach): Promise<RedemptionResponseDto> {
    const target = this.targetOf(caller, body);
    const now = new Date(this.changes.clock.now());
    const counters = this.countersOf(caller, target);
    const seen = await Promise.all(counters.map((c) => this.repo.failures(c.principal, now)));
    const full = counters.flatMap((c, i) => (seen[i] && seen[i].failures >= c.limit ? [seen[i].windowStart] : []));
    if (full.length > 0) throw this.tooMany(full, now);
    try {
      return await this.changes.tx.run((manager) => this.redeemIn(manager, caller, target, body, accounts, now));
    } catch (error) {
      if (!(error instanceof DomainError) || !REFUSALS.has(error.status)) throw error;
      const counted = await Promise.all(counters.map((c) => this.repo.addFailure(c.principal, now)));
      // Parallel guesses each count: those past a limit learn nothing more than a 429.
      const over = counters.flatMap((c, i) => (counted[i].failures > c.limit ? [counted[i].windowStart] : []));
      if (over.length > 0) throw this.tooMany(over, now);
      throw error;
    }
  }

  /**
   * Whose refusals these are: the account's (whoever names it), and the calling principal's (the
   * user who types codes, the API key, or the service principal, which may name any account and so
   * has a limit of its own across all of them). A user redeeming for their own account: one counter.
   */
  private countersOf(caller: AuthUser, target: Pick<ResolvedAccount, 'kind' | 'ownerId'>): Counter[] {
    const limit = this.config.selling.promotionFailureLimit;
    const account: Counter = { principal: `${target.kind}:${target.ownerId}`, limit };
    const service = isServicePrincipal(caller);
    const callerCounter: Counter = caller.apiKeyId
      ? {
          principal: `key:${caller.apiKeyId}`,
          limit: service ? this.config.selling.promotionServiceFailureLimit : limit,
        }
      : service
        ? { principal: `service:${caller.userId}`, limit: this.config.selling.promotionServiceFailureLimit }
        : { principal: `user:${caller.userId}`, limit };
    return callerCounter.principal === account.principal ? [account] : [account, callerCounter];
  }

  /** 429 until the last of the full counters' hours ends. */
  private tooMany(windowStarts: Date[], now: Date): DomainError {
    const ends = Math.max(...windowStarts.map((w) => w.getTime() + HOUR_MS));
    const retryAfter = Math.max(1, Math.ceil((ends - now.getTime()) / 1000));
    return new DomainError('PROMOTION_FAILURE_LIMIT', 'Too many refused promotion code redemptions; retry later', {
      retryAfter,
    });
  }

  /** Whose account: the caller's own, an org they manage, or (a service principal) the one it names. */
  private targetOf(caller: AuthUser, body: RedeemPromotionDto): Pick<ResolvedAccount, 'kind' | 'ownerId'> {
    const service = isServicePrincipal(caller);
    if (body.userId !== undefined && body.userId !== caller.userId && !service) {
      throw new DomainError('FORBIDDEN', 'Only service principals may redeem a code for another user');
    }
    if (body.orgId !== undefined) return { kind: 'org', ownerId: body.orgId };
    return { kind: 'user', ownerId: body.userId ?? caller.userId };
  }

  private async redeemIn(
    manager: EntityManager,
    caller: AuthUser,
    target: Pick<ResolvedAccount, 'kind' | 'ownerId'>,
    body: RedeemPromotionDto,
    accounts: RedemptionReach,
    now: Date,
  ): Promise<RedemptionResponseDto> {
    // The one access rule for a write naming an account, as the access guard applied it: a portal
    // token for its session's account only; an org that does not exist, or of which the caller is no
    // active member, 403 NOT_A_MEMBER; a member below its managers, 403; the caller's own account
    // otherwise. A service principal's redemption for a user it names is its own to make.
    const service = isServicePrincipal(caller);
    const orgId = target.kind === 'org' ? target.ownerId : null;
    let account = orgId !== null || !service ? (accounts.forOrg.take() ?? ownOrRefused(accounts.own)) : null;
    const promotion = await this.repo.lock(manager, body.code.toUpperCase());
    if (!promotion || !redeemableAt(promotion, now)) {
      throw new DomainError('PROMOTION_NOT_FOUND', PROMOTION_NOT_FOUND_MESSAGE);
    }
    account ??= ownOrRefused(body.userId !== undefined ? accounts.named.take() : accounts.own);
    const openedAt = await this.accounts.opened(manager, account.accountId);
    if (!openedAt) throw new NotFoundError(orgId !== null ? 'Org' : 'User');
    assertEligible(promotion, target.kind, openedAt, now);
    const redeemed = await this.repo.redeemedBy(manager, promotion.code, account.accountId);
    if (redeemed >= promotion.perAccount) {
      throw new DomainError('PROMOTION_ALREADY_REDEEMED', 'This account has redeemed this code as often as it may');
    }
    if (promotion.maxRedemptions !== null && promotion.redemptions >= promotion.maxRedemptions) {
      throw new DomainError('PROMOTION_EXHAUSTED', 'Every redemption of this code has been used');
    }
    const allocation = await this.credits.grantOnce(manager, {
      accountId: account.accountId,
      credits: promotion.credits,
      expiresAt: new Date(now.getTime() + promotion.expiryDays * DAY_MS),
      allocatedBy: caller.userId,
      notes: `promotion ${promotion.code}`,
      source: 'promotion',
    });
    if (!allocation) throw new Error('A promotion grant wrote no allocation');
    const redemption = await this.repo.insertRedemption(manager, {
      code: promotion.code,
      accountId: account.accountId,
      userId: orgId === null ? target.ownerId : null,
      orgId,
      seq: redeemed + 1,
      allocationId: allocation.id,
      credits: promotion.credits,
      expiresAt: new Date(allocation.expiresAt),
      redeemedBy: caller.userId,
    });
    await this.repo.countRedeemed(manager, promotion.code);
    const answer: RedemptionResponseDto = {
      redemptionId: redemption.id,
      code: promotion.code,
      allocationId: allocation.id,
      credits: promotion.credits,
      expiresAt: allocation.expiresAt,
    };
    await this.changes.events.emit(manager, 'promotion.redeemed', {
      ...namedInEvent(orgId === null ? target.ownerId : null, orgId),
      ...answer,
    });
    return answer;
  }
}

/** A user's account the guard read (null: none, 404 as the user's). */
function ownOrRefused(account: ResolvedAccount | null): ResolvedAccount {
  if (!account) throw new NotFoundError('User');
  return account;
}

/** A refusal counter of `promotion_failures` and the refusals it allows in its hour. */
interface Counter {
  principal: string;
  limit: number;
}

/** Active, started and not ended: otherwise the code does not exist as far as anyone can tell. */
function redeemableAt(p: Promotion, now: Date): boolean {
  return p.active && (p.startsAt === null || p.startsAt <= now) && (p.endsAt === null || now < p.endsAt);
}

/** Whether an account of `kind`, opened at `openedAt`, may redeem `p` now. */
function assertEligible(p: Promotion, kind: AccountKind, openedAt: Date, now: Date): void {
  const kindFits = p.accounts === 'any' || (p.accounts === 'users') === (kind === 'user');
  const newEnough =
    p.newAccountsWithinDays === null || openedAt.getTime() + p.newAccountsWithinDays * DAY_MS >= now.getTime();
  if (!kindFits || !newEnough) {
    throw new DomainError('PROMOTION_NOT_ELIGIBLE', 'This account may not redeem this code');
  }
}
