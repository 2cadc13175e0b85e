import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';

import { AccountsModule } from '../accounts/accounts.module.js';
import { AuditModule } from '../audit/audit.module.js';
import { EngineModule } from '../engine/engine.module.js';
import { EventsModule } from '../events/events.module.js';
import { PricingModule } from '../pricing/pricing.module.js';
import { BillingCurrencyService } from './billing/billing-currency.service.js';
import { CreditExpiryJob } from './credit-expiry.job.js';
import { Plan } from './entities/plan.entity.js';
import { Subscription } from './entities/subscription.entity.js';
import { PlansRepository } from './plans.repository.js';
import { PlansService } from './plans.service.js';
import { SubscriptionPeriods } from './subscription-periods.service.js';
import { SubscriptionRenewalJob } from './subscription-renewal.job.js';
import { SubscriptionsService } from './subscriptions.service.js';

@Module({
  imports: [
    TypeOrmModule.forFeature([Plan, Subscription]),
    AuditModule,
    EngineModule,
    AccountsModule,
    EventsModule,
    PricingModule,
  ],
  providers: [
    BillingCurrencyService,
    PlansRepository,
    PlansService,
    SubscriptionsService,
    SubscriptionPeriods,
    SubscriptionRenewalJob,
    CreditExpiryJob,
  ],
  exports: [SubscriptionsService, PlansService, BillingCurrencyService],
})
export class PlansModule {}
