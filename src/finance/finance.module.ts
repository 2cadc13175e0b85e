import { Module } from '@nestjs/common';

import { CreditsModule } from '../credits/credits.module.js';
import { PurchasesModule } from '../purchases/purchases.module.js';
import { CreditFinanceRepository } from './feed/credit-finance.repository.js';
import { CreditLedgerDaysJob } from './feed/credit-ledger-days.job.js';
import { CreditLedgerDaysRepository } from './feed/credit-ledger-days.repository.js';
import { FinanceController } from './finance.controller.js';
import { FinanceService } from './finance.service.js';
import { ReconcileController } from './reconcile.controller.js';
import { ReconcileService } from './reconcile.service.js';

/**
 * The finance reports (docs/finance.md): figures summed from the ledger by the finance feed (its sums
 * by day and their job), no engine logic;
 * and reconcile, which checks the credits module's tables and the purchases module's refunded lots.
 */
@Module({
  imports: [CreditsModule, PurchasesModule],
  controllers: [ReconcileController, FinanceController],
  providers: [
    FinanceService,
    ReconcileService,
    CreditFinanceRepository,
    CreditLedgerDaysRepository,
    CreditLedgerDaysJob,
  ],
})
export class FinanceModule {}
