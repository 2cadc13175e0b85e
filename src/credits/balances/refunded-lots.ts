import type { EntityManager } from 'typeorm';

import type { ReconcileMismatch } from '../../engine/credit-views.js';

/**
 * What reconcile (`GET /api/credits/reconcile`) runs in its snapshot after the credit checks: the
 * purchases module's check of refunded purchases' lots that still hold credits. Purchases sits on the
 * engine beside credits, so the composition root hands it in (`ReconcileRoutesModule.forRoot({
 * imports: [PurchasesModule], use: PurchasesService })`) and credits imports none of it.
 */
export interface RefundedLots {
  refundedLotsWithCredits(manager: EntityManager): Promise<ReconcileMismatch[]>;
}
export const REFUNDED_LOTS = Symbol('REFUNDED_LOTS');
