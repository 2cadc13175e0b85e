import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { AccountLocksRepository } from './account-locks.repository.js';
import { CreditMoves } from './credit-moves.js';
import { CreditPlanLotsRepository, type LiveLotRow } from './credit-plan-lots.repository.js';
import { CreditPurchasesRepository } from './credit-purchases.repository.js';
import { toAllocation } from './credit-sql.js';
import type { AllocationView, FreezeInput, GrantInput, TakeBackInput, TakenBack } from './credit-views.js';
import { CreditsRepository } from './credits.repository.js';

/**
 * What the engine does to particular lots besides a grant, in the caller's transaction, through the
 * engine's functions under the account's lock: what a plan change asks (docs/plans.md "Changing
 * plans": the lots it reads, and a restart's rollover and expiry of the old period's plan lots), and
 * what a purchase's refund or dispute asks of its allocation (docs/selling.md).
 */
@Injectable()
export class CreditLotsService {
  constructor(
    private readonly repo: CreditPlanLotsRepository,
    private readonly purchases: CreditPurchasesRepository,
    private readonly credits: CreditsRepository,
    private readonly locks: AccountLocksRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly moves: CreditMoves,
  ) {}

  /** The account's lots unexpired at `at` (the caller holds the account's lock). */
  liveLots(manager: EntityManager, accountId: string, at: Date): Promise<LiveLotRow[]> {
    return this.repo.liveLots(manager, accountId, at);
  }

  /**
   * What the user's plan allocations in force at `at` granted (docs/money.md, "Plans and rollover"):
   * a new plan allowance grants only what it adds to that. Read it under the user's account lock
   * (`AccountLocksRepository.lockId`) in the transaction that grants, so no concurrent grant can slip in.
   */
  creditsInForce(manager: EntityManager, accountId: string, at: Date): Promise<number> {
    return this.repo.creditsInForce(manager, accountId, at);
  }

  /**
   * Up to `cap` of what allocation `fromId` has left moves to a new `rollover` allocation of the
   * period `into` (credits_rollover()); null when there was nothing to move or it was moved already.
   */
  async rolloverLot(
    manager: EntityManager,
    input: { accountId: string; fromId: string; cap: number; expiresAt: Date; into: NonNullable<GrantInput['plan']> },
  ): Promise<AllocationView | null> {
    await this.locks.lockId(manager, input.accountId);
    const row = await this.credits.rollover(manager, {
      accountId: input.accountId,
      from: input.fromId,
      cap: input.cap,
      expiresAt: input.expiresAt,
      plan: input.into,
    });
    if (!row) return null;
    this.moves.moved('rollover', row.total_credits);
    this.moves.moved('grant', row.total_credits);
    return toAllocation(row);
  }

  /**
   * Up to `cap` unused credits of the plan allocation subscription `fromSubscriptionId` got for the
   * period starting at `fromPeriodStart` move into the period `into` (a renewal's rollover, also when
   * the period ends with a change of plan); null when there was none or nothing to move.
   */
  async rolloverPeriod(
    manager: EntityManager,
    input: {
      accountId: string;
      fromSubscriptionId: string;
      fromPeriodStart: Date;
      cap: number;
      expiresAt: Date;
      into: NonNullable<GrantInput['plan']>;
    },
  ): Promise<AllocationView | null> {
    await this.locks.lockId(manager, input.accountId);
    const old = await this.credits.lockPeriodGrant(manager, input.fromSubscriptionId, input.fromPeriodStart);
    if (!old) return null;
    return this.rolloverLot(manager, { ...input, fromId: old.id });
  }

  /**
   * The live plan lots `ids` end at `at` (a restart's instant, where its period starts), what they
   * had left leaving now through `expire` lines (credits_expire_now()).
   */
  async expireNow(manager: EntityManager, accountId: string, ids: string[], at: Date): Promise<number> {
    if (ids.length === 0) return 0;
    const thresholds = this.config.credits.lowBalanceThresholds;
    const credits = await this.repo.expireNow(manager, { accountId, ids, at, thresholds });
    this.moves.moved('expire', credits);
    return credits;
  }

  /** A purchase's allocation: its live remaining credits and what a dispute froze of it. */
  purchaseAllocation(manager: EntityManager, purchaseId: string) {
    return this.purchases.allocationOf(manager, purchaseId);
  }

  /**
   * Takes credits back from a purchase's allocation (credits_take_back()): what it has left (`refund`),
   * then with `allowDebt` what was spent of it as debt; without it, more than it has writes nothing.
   */
  async takeBack(manager: EntityManager, input: TakeBackInput): Promise<TakenBack> {
    const thresholds = this.config.credits.lowBalanceThresholds;
    const result = await this.purchases.takeBack(manager, { ...input, thresholds });
    this.moves.moved('refund', result.taken);
    this.moves.moved('debt', result.debt);
    return result;
  }

  /** The money the allocation's latest refund took, minor units (the rule's share: docs/finance.md). */
  lastRefundMinor(manager: EntityManager, allocationId: string): Promise<bigint> {
    return this.purchases.lastRefundMinor(manager, allocationId);
  }

  /** Freezes (a dispute opened) or unfreezes a purchase allocation's credits (credits_freeze()). */
  async freeze(manager: EntityManager, input: FreezeInput): Promise<number> {
    const thresholds = this.config.credits.lowBalanceThresholds;
    const n = await this.purchases.freeze(manager, { ...input, thresholds });
    this.moves.moved(input.freeze ? 'freeze' : 'unfreeze', n);
    return n;
  }

  /**
   * One batch of the credits.expiring notices (docs/webhooks.md): allocations within a lead time of
   * `hours` told once per lead time; what the batch read and how many it told.
   */
  noticeExpiring(hours: number[], batch: number): Promise<{ processed: number; told: number }> {
    return this.credits.noticeExpiringBatch(hours, batch);
  }
}
