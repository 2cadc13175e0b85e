import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';

import { AuditModule } from '../audit/audit.module.js';
import { CreditsModule } from '../credits/credits.module.js';
import { EventsModule } from '../events/events.module.js';
import { Purchase } from './entities/purchase.entity.js';
import { PurchaseProviderEvent } from './entities/purchase-provider-event.entity.js';
import { PurchaseRefund } from './entities/purchase-refund.entity.js';
import { PurchaseRefundsService } from './purchase-refunds.service.js';
import { PurchasesController } from './purchases.controller.js';
import { PurchasesRepository } from './purchases.repository.js';
import { PurchasesService } from './purchases.service.js';
import { StripeWebhookController } from './stripe/stripe-webhook.controller.js';
import { StripeWebhookService } from './stripe/stripe-webhook.service.js';

@Module({
  imports: [
    TypeOrmModule.forFeature([Purchase, PurchaseRefund, PurchaseProviderEvent]),
    AuditModule,
    CreditsModule,
    EventsModule,
  ],
  controllers: [PurchasesController, StripeWebhookController],
  providers: [PurchasesRepository, PurchasesService, PurchaseRefundsService, StripeWebhookService],
  exports: [PurchasesService],
})
export class PurchasesModule {}
