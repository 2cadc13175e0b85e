import { type DynamicModule, Module } from '@nestjs/common';

import { type Handed, handedRoutes } from '../../common/handed-routes.js';
import { CreditsModule } from '../credits.module.js';
import { ReconcileController } from './reconcile.controller.js';
import { REFUNDED_LOTS, type RefundedLots } from './refunded-lots.js';

/**
 * Reconcile's route (`GET /api/credits/reconcile`). The check of refunded purchases' lots is the
 * purchases module's, so the composition root hands it in (`ReconcileRoutesModule.forRoot({ imports:
 * [PurchasesModule], use: PurchasesService })`) and this folder imports none of it.
 */
@Module({})
export class ReconcileRoutesModule {
  static forRoot(refunds: Handed<RefundedLots>): DynamicModule {
    return handedRoutes(ReconcileRoutesModule, [ReconcileController], REFUNDED_LOTS, refunds, [CreditsModule]);
  }
}
