import { type DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_PIPE } from '@nestjs/core';
import { ScheduleModule } from '@nestjs/schedule';

import { AccountResolver } from './accounts/account-resolver.js';
import { AccountRoutesModule } from './accounts/account-routes.module.js';
import { AccountsModule } from './accounts/accounts.module.js';
import { ApiKeysModule } from './api-keys/api-keys.module.js';
import { AuditModule } from './audit/audit.module.js';
import { AuditRoutesModule } from './audit/audit-routes.module.js';
import { AuditLogModule } from './audit-log/audit-log.module.js';
import { AuditLogService } from './audit-log/audit-log.service.js';
import { AccessGuard } from './auth/access.guard.js';
import { AuthModule } from './auth/auth.module.js';
import { AuthenticationGuard } from './auth/authentication.guard.js';
import { PrincipalThrottlerGuard } from './auth/principal-throttler.guard.js';
import { rowAccounts } from './auth/row-accounts.js';
import { ClockModule } from './common/clock.js';
import { AllExceptionsFilter } from './common/errors/all-exceptions.filter.js';
import { BodyValidationPipe } from './common/validation/body-validation.pipe.js';
import type { BuildAppConfigOptions } from './config/app-config.js';
import { AppConfigModule } from './config/config.module.js';
import { AllocateRoutesModule } from './credits/allocate/allocate-routes.module.js';
import { ReconcileRoutesModule } from './credits/balances/reconcile-routes.module.js';
import { CreditsModule } from './credits/credits.module.js';
import { RunwayRoutesModule } from './credits/runway/runway-routes.module.js';
import { StatementRoutesModule } from './credits/statements/statement-routes.module.js';
import { DatabaseModule } from './database/database.module.js';
import { ENTITIES } from './entities.js';
import { EventsModule } from './events/events.module.js';
import { ExportsModule } from './exports/exports.module.js';
import { FeaturesModule } from './features/features.module.js';
import { FeaturesService } from './features/features.service.js';
import { FinanceModule } from './finance/finance.module.js';
import { ReconciliationsModule } from './finance/reconciliations.module.js';
import { StatementAnswers } from './finance/statement-answers.js';
import { StatementsModule } from './finance/statements.module.js';
import { GatewayModule } from './gateway/gateway.module.js';
import { HealthModule } from './health/health.module.js';
import { IdempotencyModule } from './idempotency/idempotency.module.js';
import { MetricsModule } from './metrics/metrics.module.js';
import { NotificationsModule } from './notifications/notifications.module.js';
import { OrgStatementsModule } from './orgs/org-statements.module.js';
import { OrgsModule } from './orgs/orgs.module.js';
import { BillingCurrencyService } from './plans/billing/billing-currency.service.js';
import { PlanRoutesModule } from './plans/plan-routes.module.js';
import { PlansModule } from './plans/plans.module.js';
import { PortalModule } from './portal/portal.module.js';
import { PricingModule } from './pricing/pricing.module.js';
import { RerateRoutesModule } from './pricing/rerates/rerate-routes.module.js';
import { SimulationRoutesModule } from './pricing/simulations/simulation-routes.module.js';
import { PromotionsModule } from './promotions/promotions.module.js';
import { SignupAccountSync } from './promotions/signup-account-sync.js';
import { SignupCreditsService } from './promotions/signup-credits.service.js';
import { PurchasesModule } from './purchases/purchases.module.js';
import { PurchasesService } from './purchases/purchases.service.js';
import { ReratesModule } from './rerates/rerates.module.js';
import { ReratesService } from './rerates/rerates.service.js';
import { RunwayModule } from './runway/runway.module.js';
import { RunwayService } from './runway/runway.service.js';
import { StreamingSessionsModule } from './streaming-sessions/streaming-sessions.module.js';
import { ThrottlingModule } from './throttling/throttling.module.js';
import { UsageCorrectionsService } from './usage/corrections/usage-corrections.service.js';
import { SimulationsService } from './usage/simulations/simulations.service.js';
import { UsageModule } from './usage/usage.module.js';
import { UserSubscriptionsModule } from './users/user-subscriptions.module.js';
import { UsersModule } from './users/users.module.js';
import { WebhooksModule } from './webhooks/webhooks.module.js';

/** JOBS_ENABLED, read before the config module exists (it decides which modules there are). */
function jobsEnabled(env: Record<string, string | undefined>): boolean {
  return !['false', '0', 'no'].includes((env.JOBS_ENABLED ?? '').trim().toLowerCase());
}

@Module({})
export class AppModule {
  /** `env` overrides process.env (tests run apps with their own settings side by side). */
  static forRoot(
    env: Record<string, string | undefined> = {},
    options: Pick<BuildAppConfigOptions, 'embeddedDatabaseUrl' | 'embeddedMigrationUrl'> = {},
  ): DynamicModule {
    return {
      module: AppModule,
      imports: [
        AppConfigModule.forRoot(env, options),
        ClockModule,
        DatabaseModule.forRoot(ENTITIES),
        MetricsModule,
        ThrottlingModule,
        // Every job is safe with several instances; JOBS_ENABLED=false leaves them to other instances.
        ...(jobsEnabled({ ...process.env, ...env }) ? [ScheduleModule.forRoot()] : []),
        // The re-rate routes before pricing's: GET /api/pricing/rerates is not the price of a model
        // called `rerates` (GET /api/pricing/:modelId); Nest routes in module order.
        RerateRoutesModule.forRoot({ imports: [ReratesModule], use: ReratesService }),
        AccountsModule,
        AuthModule.forRoot({
          imports: [AccountsModule, PromotionsModule],
          accountSync: SignupAccountSync,
          accountAccess: AccountResolver,
        }),
        IdempotencyModule,
        HealthModule,
        UsersModule,
        PricingModule,
        CreditsModule,
        // The rest of /api/credits, in the order the OpenAPI document lists it: reconcile, the manual
        // grant, the statement and the runway (handed the purchases' refund check, the promotions'
        // signup credits, finance's statements and the runway's projection), then the review queue
        // (usage's first route, whose item its resolve route answers too).
        ReconcileRoutesModule.forRoot({ imports: [PurchasesModule], use: PurchasesService }),
        AllocateRoutesModule.forRoot({ imports: [PromotionsModule], use: SignupCreditsService }),
        StatementRoutesModule.forRoot({ imports: [StatementsModule], use: StatementAnswers }),
        RunwayRoutesModule.forRoot({ imports: [RunwayModule], use: RunwayService }),
        UsageModule,
        SimulationRoutesModule.forRoot({ imports: [UsageModule], use: SimulationsService }),
        StreamingSessionsModule,
        GatewayModule,
        ApiKeysModule,
        // The plan catalogue's routes ahead of the features' and of the subscription routes in the OpenAPI
        // document (its request examples run in that order); features hands them the grant check.
        PlanRoutesModule.forRoot({ imports: [FeaturesModule], use: FeaturesService }),
        AccountRoutesModule.forRoot({ imports: [PlansModule], use: BillingCurrencyService }),
        FeaturesModule,
        PlansModule,
        UserSubscriptionsModule,
        PurchasesModule,
        FinanceModule,
        PromotionsModule,
        ReconciliationsModule,
        ExportsModule,
        OrgStatementsModule,
        OrgsModule,
        EventsModule,
        WebhooksModule,
        NotificationsModule,
        AuditModule,
        AuditRoutesModule.forRoot({ imports: [AuditLogModule], use: AuditLogService }),
        PortalModule,
      ],
      providers: [
        // The account a row the path names belongs to, read by the row's owner for the access guard
        // (AuthRule `row`): a usage record's by usage, a purchase's by purchases.
        rowAccounts({ 'usage-record': UsageCorrectionsService, purchase: PurchasesService }),
        // Order matters: who is calling, then may they, then how often.
        { provide: APP_GUARD, useClass: AuthenticationGuard },
        // The one access rule; a portal token's reach is an option of it (src/auth/account-access.ts).
        { provide: APP_GUARD, useClass: AccessGuard },
        { provide: APP_GUARD, useClass: PrincipalThrottlerGuard },
        { provide: APP_FILTER, useClass: AllExceptionsFilter },
        { provide: APP_PIPE, useClass: BodyValidationPipe },
      ],
    };
  }
}
