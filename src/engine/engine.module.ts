import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';

import { AccountsModule } from '../accounts/accounts.module.js';
import { AccountLocksRepository } from './account-locks.repository.js';
import { AutoRechargeRepository } from './auto-recharge/auto-recharge.repository.js';
import { AutoRechargeAttempts } from './auto-recharge/auto-recharge-attempts.service.js';
import { CreditBudgetsRepository } from './budgets/credit-budgets.repository.js';
import { CreditCorrectionsRepository } from './corrections/credit-corrections.repository.js';
import { CreditAccountsRepository } from './credit-accounts.repository.js';
import { CreditAccountsService } from './credit-accounts.service.js';
import { CreditCapsRepository } from './credit-caps.repository.js';
import { CreditCapsService } from './credit-caps.service.js';
import { CreditHoldsRepository } from './credit-holds.repository.js';
import { CreditLotsService } from './credit-lots.service.js';
import { CreditMoves } from './credit-moves.js';
import { CreditPlanLotsRepository } from './credit-plan-lots.repository.js';
import { CreditPurchasesRepository } from './credit-purchases.repository.js';
import { CreditTransfersRepository } from './credit-transfers.repository.js';
import { CreditsRepository } from './credits.repository.js';
import { CreditsService } from './credits.service.js';
import { CreditsBatchRepository } from './credits-batch.repository.js';
import { CreditsErasureRepository } from './credits-erasure.repository.js';
import { AutoRechargeAttempt } from './entities/auto-recharge-attempt.entity.js';
import { AutoRechargeSettings } from './entities/auto-recharge-settings.entity.js';
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
import { CreditVolumeTotal } from './entities/credit-volume-total.entity.js';

/** The engine's tables' entities, for the data source's list (src/entities.ts); no other folder names them. */
export const ENGINE_ENTITIES = [
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
  CreditVolumeTotal,
  AutoRechargeSettings,
  AutoRechargeAttempt,
];
import { CreditSettlementsRepository } from './settlements/credit-settlements.repository.js';

/**
 * The engine (docs/architecture.md, docs/money.md): the one floor every credit movement goes through.
 * Its SQL functions (src/engine/sql/) take, hold, settle, grant, correct and expire under the
 * account's lock and write the ledger. Its door is three services and nothing else: `CreditsService`
 * (take, hold, settle one or many, grant, transfer, void, expire, correct), `CreditAccountsService`
 * (the account lock and what changes under it: settings, limits, budgets, auto-recharge; debt;
 * erasure) and `CreditLotsService` (a plan change's and a purchase's lots). Its repositories, its lock
 * and its SQL functions are private: every statement that writes a table of the engine is one of its
 * repositories. The credits tenants (src/credits/) and every money-moving module sit above it.
 */
@Module({
  imports: [
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
  ],
  providers: [
    AccountLocksRepository,
    AutoRechargeAttempts,
    AutoRechargeRepository,
    CreditAccountsRepository,
    CreditAccountsService,
    CreditBudgetsRepository,
    CreditCapsRepository,
    CreditCapsService,
    CreditCorrectionsRepository,
    CreditHoldsRepository,
    CreditLotsService,
    CreditMoves,
    CreditPlanLotsRepository,
    CreditPurchasesRepository,
    CreditSettlementsRepository,
    CreditTransfersRepository,
    CreditsBatchRepository,
    CreditsErasureRepository,
    CreditsRepository,
    CreditsService,
  ],
  exports: [CreditsService, CreditAccountsService, CreditLotsService],
})
export class EngineModule {}
