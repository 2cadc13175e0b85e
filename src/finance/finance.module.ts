import { Module } from '@nestjs/common';

import { CreditsModule } from '../credits/credits.module.js';
import { PurchasesModule } from '../purchases/purchases.module.js';
import { FinanceController } from './finance.controller.js';
import { FinanceService } from './finance.service.js';
import { ReconcileController } from './reconcile.controller.js';
import { ReconcileService } from './reconcile.service.js';

/**
 * The finance reports (docs/finance.md): figures read through the credits module, no engine logic;
 * and reconcile, which checks the credits module's tables and the purchases module's refunded lots.
 */
@Module({
  imports: [CreditsModule, PurchasesModule],
  controllers: [ReconcileController, FinanceController],
  providers: [FinanceService, ReconcileService],
})
export class FinanceModule {}
