import { Module } from '@nestjs/common';

import { CreditFinanceRepository } from './feed/credit-finance.repository.js';
import { CreditLedgerDaysJob } from './feed/credit-ledger-days.job.js';
import { CreditLedgerDaysRepository } from './feed/credit-ledger-days.repository.js';
import { FinanceController } from './finance.controller.js';
import { FinanceService } from './finance.service.js';

/**
 * The finance reports (docs/finance.md): figures summed from the ledger by the finance feed (its sums
 * by day and their job), no engine logic.
 */
@Module({
  controllers: [FinanceController],
  providers: [FinanceService, CreditFinanceRepository, CreditLedgerDaysRepository, CreditLedgerDaysJob],
})
export class FinanceModule {}
