import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

import type { AccountKind } from '../accounts/entities/account.entity.js';
import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { Transactions } from '../database/transactions.js';
import { EventsService } from '../events/events.service.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { CreditPurchasesRepository } from './credit-purchases.repository.js';
import type { LedgerKind } from './credit-views.js';

/** What a take-back did: credits that left the allocation, credits made debt, what it had before. */
export interface TakenBack {
  taken: number;
  debt: number;
  refundable: number;
}

/**
 * The credit movements of purchases (docs/purchases.md), each inside the caller's transaction under
 * the account lock, through the engine's functions: the grant of a paid purchase (at most one per
 * purchase: a unique constraint), taking credits back from its allocation (the spent part as debt),
 * freezing and unfreezing it for a dispute. The caller has locked the purchase row first.
 */
@Injectable()
export class CreditPurchasesService {
  constructor(
    private readonly repo: CreditPurchasesRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(EventsService) private readonly events: EventsService,
    @Inject(Transactions) private readonly tx: Transactions,
    @Inject(MetricsService) private readonly metrics: MetricsService,
  ) {}

  private moved(kind: LedgerKind, amount: number): void {
    if (amount !== 0) this.tx.afterCommit(() => this.metrics.creditsMoved(kind, amount));
  }

  /** The purchase's allocation, or null when the grant found it made already (or no account). */
  async grant(
    manager: EntityManager,
    input: {
      kind: AccountKind;
      ownerId: string;
      purchaseId: string;
      credits: number;
      expiresAt: Date;
      createdBy: string;
      /** The API key that marked the purchase paid: its grant and repay lines name it. */
      apiKeyId: string | null;
    },
  ): Promise<string | null> {
    const row = await this.repo.grant(manager, { ...input, notes: `purchase ${input.purchaseId}` });
    if (!row) return null;
    this.moved('grant', input.credits);
    this.moved('repay', input.credits - row.remaining_credits);
    if (input.kind === 'user') {
      await this.events.emit(manager, 'credits.granted', {
        userId: input.ownerId,
        allocationId: row.id,
        credits: input.credits,
        expiresAt: row.expires_at.toISOString(),
        source: 'purchase',
      });
    }
    return row.id;
  }

  /** The purchase's allocation with its live remaining credits and what a dispute froze of it. */
  allocationOf(manager: EntityManager, purchaseId: string) {
    return this.repo.allocationOf(manager, purchaseId);
  }

  /**
   * Takes `credits` back from the allocation: what it has left first (`refund`), then, with
   * `allowDebt`, what was already spent of it as debt (`debt`). Without it, more than it has writes
   * nothing (`taken` 0).
   */
  async takeBack(
    manager: EntityManager,
    input: {
      allocationId: string;
      credits: number;
      allowDebt: boolean;
      debtBefore: number;
      createdBy: string;
      /** The API key that acted (a service key), named on the lines. */
      apiKeyId: string | null;
    },
  ): Promise<TakenBack> {
    const result = await this.repo.takeBack(manager, {
      ...input,
      thresholds: this.config.credits.lowBalanceThresholds,
    });
    this.moved('refund', result.taken);
    this.moved('debt', result.debt);
    return result;
  }

  /** Freezes (a dispute opened) or unfreezes the allocation's credits; answers how many. */
  async freeze(
    manager: EntityManager,
    input: { allocationId: string; freeze: boolean; createdBy: string; apiKeyId: string | null },
  ): Promise<number> {
    const n = await this.repo.freeze(manager, { ...input, thresholds: this.config.credits.lowBalanceThresholds });
    this.moved(input.freeze ? 'freeze' : 'unfreeze', n);
    return n;
  }
}
