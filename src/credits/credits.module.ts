import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';

import { AccountsModule } from '../accounts/accounts.module.js';
import { AuditModule } from '../audit/audit.module.js';
import { ChangesModule } from '../changes/changes.module.js';
import { AccountLocksRepository } from '../engine/account-locks.repository.js';
import { AutoRechargeRepository } from '../engine/auto-recharge/auto-recharge.repository.js';
import { CreditBudgetsRepository } from '../engine/budgets/credit-budgets.repository.js';
import { CreditAccountsRepository } from '../engine/credit-accounts.repository.js';
import { CreditCapsRepository } from '../engine/credit-caps.repository.js';
import { CreditCapsService } from '../engine/credit-caps.service.js';
import { CreditCorrectionsService } from '../engine/credit-corrections.service.js';
import { CreditHoldsRepository } from '../engine/credit-holds.repository.js';
import { CreditPlanLotsRepository } from '../engine/credit-plan-lots.repository.js';
import { CreditPlanLotsService } from '../engine/credit-plan-lots.service.js';
import { CreditPurchasesRepository } from '../engine/credit-purchases.repository.js';
import { CreditTransfersRepository } from '../engine/credit-transfers.repository.js';
import { CreditsRepository } from '../engine/credits.repository.js';
import { CreditsService } from '../engine/credits.service.js';
import { CreditsBatchRepository } from '../engine/credits-batch.repository.js';
import { CreditsErasureRepository } from '../engine/credits-erasure.repository.js';
import { CreditAccount } from '../engine/entities/credit-account.entity.js';
import { CreditAllocation } from '../engine/entities/credit-allocation.entity.js';
import { CreditBudget } from '../engine/entities/credit-budget.entity.js';
import { CreditCap } from '../engine/entities/credit-cap.entity.js';
import { CreditCapEventId } from '../engine/entities/credit-cap-event-id.entity.js';
import { CreditCapSpend } from '../engine/entities/credit-cap-spend.entity.js';
import { CreditHold } from '../engine/entities/credit-hold.entity.js';
import { CreditLedgerEntry } from '../engine/entities/credit-ledger-entry.entity.js';
import { CreditTransfer } from '../engine/entities/credit-transfer.entity.js';
import { CreditTransferLot } from '../engine/entities/credit-transfer-lot.entity.js';
import { PricingModule } from '../pricing/pricing.module.js';
import { AutoRechargeController } from './auto-recharge/auto-recharge.controller.js';
import { AutoRechargeService } from './auto-recharge/auto-recharge.service.js';
import { CreditQueriesService } from './balances/credit-queries.service.js';
import { CreditReadsRepository } from './balances/credit-reads.repository.js';
import { CreditsController } from './balances/credits.controller.js';
import { BudgetsController } from './budgets/budgets.controller.js';
import { CreditBudgetsService } from './budgets/credit-budgets.service.js';
import { CreditAdminService } from './credit-admin.service.js';
import { CreditQuotesService } from './credit-quotes.service.js';
import { CreditCapEventIdsJob } from './limits/credit-cap-event-ids.job.js';
import { CreditLimitsController } from './limits/credit-limits.controller.js';
import { CreditLimitsService } from './limits/credit-limits.service.js';
import { CreditExpiringNoticeJob } from './notices/credit-expiring-notice.job.js';
import { CreditJobsRepository } from './notices/credit-jobs.repository.js';
import { CreditTransfersController } from './transfers/credit-transfers.controller.js';
import { CreditTransfersService } from './transfers/credit-transfers.service.js';

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
    CreditPlanLotsService,
  ],
})
export class CreditsModule {}
