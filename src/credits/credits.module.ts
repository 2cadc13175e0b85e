import { Module } from '@nestjs/common';

import { AccountsModule } from '../accounts/accounts.module.js';
import { AuditModule } from '../audit/audit.module.js';
import { ChangesModule } from '../changes/changes.module.js';
import { EngineModule } from '../engine/engine.module.js';
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
import { CreditTransfersController } from './transfers/credit-transfers.controller.js';
import { CreditTransfersService } from './transfers/credit-transfers.service.js';

/**
 * The credits tenants (docs/architecture.md): the routes of `/api/credits` and the rules above the
 * engine (src/engine/), each a room: balances and reads, auto-recharge, transfers, limits, budgets,
 * notices, quotes and the admin movements. Every credit they move goes through the engine. Reconcile,
 * the manual grant, a user's statement and the runway are served by their routes modules
 * (`ReconcileRoutesModule`, `AllocateRoutesModule`, `StatementRoutesModule`, `RunwayRoutesModule`),
 * handed what they read of purchases, promotions, finance and the runway by the composition root; the
 * review queue by usage, whose resolve route answers its item too.
 */
@Module({
  imports: [AuditModule, ChangesModule, AccountsModule, PricingModule, EngineModule],
  controllers: [
    CreditsController,
    CreditLimitsController,
    CreditTransfersController,
    AutoRechargeController,
    BudgetsController,
  ],
  providers: [
    CreditAdminService,
    CreditLimitsService,
    CreditReadsRepository,
    CreditQueriesService,
    CreditQuotesService,
    CreditExpiringNoticeJob,
    CreditCapEventIdsJob,
    CreditTransfersService,
    AutoRechargeService,
    CreditBudgetsService,
  ],
  exports: [CreditQuotesService, CreditAdminService, CreditQueriesService, CreditLimitsService, AutoRechargeService],
})
export class CreditsModule {}
