import { Inject, Injectable } from '@nestjs/common';

import type { ReconcileMismatch } from '../../engine/credit-views.js';
import { PurchasesService } from '../../purchases/purchases.service.js';
import { CreditQueriesService } from './credit-queries.service.js';

/**
 * Reconcile (GET /api/credits/reconcile): the credits module's checks of every allocation, hold and
 * debt against the ledger, and the purchases module's check of refunded lots, in the one REPEATABLE
 * READ snapshot the credits module opens. It sits above both, so each is a call down.
 */
@Injectable()
export class ReconcileService {
  constructor(
    @Inject(CreditQueriesService) private readonly credits: CreditQueriesService,
    @Inject(PurchasesService) private readonly purchases: PurchasesService,
  ) {}

  reconcile(): Promise<{ checkedAllocations: number; mismatches: ReconcileMismatch[] }> {
    return this.credits.reconcile([(manager) => this.purchases.refundedLotsWithCredits(manager)]);
  }
}
