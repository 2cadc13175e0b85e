import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';

import { AccountsModule } from '../accounts/accounts.module.js';
import { AuditModule } from '../audit/audit.module.js';
import { ChangesModule } from '../changes/changes.module.js';
import { PricingModule } from '../pricing/pricing.module.js';
import { AccountLocksRepository } from './account-locks.repository.js';
import { AutoRechargeController } from './auto-recharge.controller.js';
import { AutoRechargeRepository } from './auto-recharge.repository.js';
import { AutoRechargeService } from './auto-recharge.service.js';
import { BudgetsController } from './budgets.controller.js';
import { CreditAccountsRepository } from './credit-accounts.repository.js';
import { CreditAdminService } from './credit-admin.service.js';
import { CreditBudgetsRepository } from './credit-budgets.repository.js';
import { CreditBudgetsService } from './credit-budgets.service.js';
import { CreditCapEventIdsJob } from './credit-cap-event-ids.job.js';
import { CreditCapsRepository } from './credit-caps.repository.js';
import { CreditCapsService } from './credit-caps.service.js';
import { CreditCorrectionsService } from './credit-corrections.service.js';
import { CreditExpiringNoticeJob } from './credit-expiring-notice.job.js';
import { CreditFinanceRepository } from './credit-finance.repository.js';
import { CreditHoldsRepository } from './credit-holds.repository.js';
import { CreditJobsRepository } from './credit-jobs.repository.js';
import { CreditLedgerDaysJob } from './credit-ledger-days.job.js';
import { CreditLedgerDaysRepository } from './credit-ledger-days.repository.js';
import { CreditLimitsController } from './credit-limits.controller.js';
import { CreditLimitsService } from './credit-limits.service.js';
import { CreditPlanLotsRepository } from './credit-plan-lots.repository.js';
import { CreditPlanLotsService } from './credit-plan-lots.service.js';
import { CreditPurchasesRepository } from './credit-purchases.repository.js';
import { CreditQueriesService } from './credit-queries.service.js';
import { CreditQuotesService } from './credit-quotes.service.js';
import { CreditReadsRepository } from './credit-reads.repository.js';
import { CreditTransfersController } from './credit-transfers.controller.js';
import { CreditTransfersRepository } from './credit-transfers.repository.js';
import { CreditTransfersService } from './credit-transfers.service.js';
import { CreditsController } from './credits.controller.js';
import { CreditsRepository } from './credits.repository.js';
import { CreditsService } from './credits.service.js';
import { CreditsBatchRepository } from './credits-batch.repository.js';
import { CreditsErasureRepository } from './credits-erasure.repository.js';
import { CreditAccount } from './entities/credit-account.entity.js';
import { CreditAllocation } from './entities/credit-allocation.entity.js';
import { CreditBudget } from './entities/credit-budget.entity.js';
import { CreditCap } from './entities/credit-cap.entity.js';
import { CreditCapEventId } from './entities/credit-cap-event-id.entity.js';
import { CreditCapSpend } from './entities/credit-cap-spend.entity.js';
import { CreditHold } from './entities/credit-hold.entity.js';
import { CreditLedgerEntry } from './entities/credit-ledger-entry.entity.js';
import { CreditTransfer } from './entities/credit-transfer.entity.js';
import { CreditTransferLot } from './entities/credit-transfer-lot.entity.js';

@Module({
  imports: [
    AuditModule,
    ChangesModule,
    TypeOrmModule.forFeature([
      CreditAllocation,
      CreditLedgerEntry,
      CreditHold,
      CreditAccount,
      CreditCap,
      CreditCapSpend,
      CreditBudget,
      CreditCapEventId,
      CreditTransfer,
      CreditTransferLot,
    ]),
    AccountsModule,
    PricingModule,
  ],
  controllers: [
    CreditsController,
    CreditLimitsController,
    CreditTransfersController,
    AutoRechargeController,
    BudgetsController,
  ],
  providers: [
    CreditsErasureRepository,
    CreditsService,
    CreditAdminService,
    CreditLimitsService,
    CreditAccountsRepository,
    CreditsRepository,
    CreditHoldsRepository,
    CreditJobsRepository,
    CreditReadsRepository,
    CreditQueriesService,
    CreditQuotesService,
    CreditExpiringNoticeJob,
    CreditCapEventIdsJob,
    CreditsBatchRepository,
    AccountLocksRepository,
    CreditTransfersRepository,
    CreditTransfersService,
    CreditPurchasesRepository,
    CreditFinanceRepository,
    CreditLedgerDaysRepository,
    CreditLedgerDaysJob,
    AutoRechargeRepository,
    AutoRechargeService,
    CreditCapsRepository,
    CreditCapsService,
    CreditCorrectionsService,
    CreditPlanLotsRepository,
    CreditPlanLotsService,
    CreditBudgetsRepository,
    CreditBudgetsService,
  ],
  exports: [
    CreditQuotesService,
    CreditsErasureRepository,
    CreditAdminService,
    CreditCorrectionsService,
    CreditCapsService,
    CreditsService,
    CreditQueriesService,
    CreditAccountsRepository,
    CreditLimitsService,
    AccountLocksRepository,
    AutoRechargeService,
    CreditFinanceRepository,
    CreditLedgerDaysJob,
    CreditPlanLotsService,
  ],
})
export class CreditsModule {}
