import { Module } from '@nestjs/common';

import { ChangesModule } from '../changes/changes.module.js';
import { CreditFinanceRepository } from './feed/credit-finance.repository.js';
import { CreditLedgerDaysJob } from './feed/credit-ledger-days.job.js';
import { CreditLedgerDaysRepository } from './feed/credit-ledger-days.repository.js';
import { FinanceController } from './finance.controller.js';
import { FinanceService } from './finance.service.js';
import { FxRatesController } from './fx/fx-rates.controller.js';
import { FxRatesJob } from './fx/fx-rates.job.js';
import { FxRatesRepository } from './fx/fx-rates.repository.js';
import { FxRatesService } from './fx/fx-rates.service.js';

/**
 * The finance reports (docs/finance.md): figures summed from the ledger by the finance feed (its sums
 * by day and their job), no engine logic; the FX rates by day they convert with, and their job.
 */
@Module({
  imports: [ChangesModule],
  controllers: [FinanceController, FxRatesController],
  providers: [
    FinanceService,
    CreditFinanceRepository,
    CreditLedgerDaysRepository,
    CreditLedgerDaysJob,
    FxRatesService,
    FxRatesRepository,
    FxRatesJob,
  ],
})
export class FinanceModule {}
