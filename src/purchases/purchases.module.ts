import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';

import { AccountsModule } from '../accounts/accounts.module.js';
import { AuditModule } from '../audit/audit.module.js';
import { ChangesModule } from '../changes/changes.module.js';
import { EngineModule } from '../engine/engine.module.js';
import { EventsModule } from '../events/events.module.js';
import { Package } from './entities/package.entity.js';
import { Purchase } from './entities/purchase.entity.js';
import { PurchaseProviderEvent } from './entities/purchase-provider-event.entity.js';
import { PurchaseRefund } from './entities/purchase-refund.entity.js';
import { PackagesController } from './packages/packages.controller.js';
import { PackagesRepository } from './packages/packages.repository.js';
import { PackagesService } from './packages/packages.service.js';
import { PurchaseRefundsService } from './purchase-refunds.service.js';
import { PurchasesController } from './purchases.controller.js';
import { PurchasesRepository } from './purchases.repository.js';
import { PurchasesService } from './purchases.service.js';
import { PurchasesErasureRepository } from './purchases-erasure.repository.js';
import { StripeWebhookController } from './stripe/stripe-webhook.controller.js';
import { StripeWebhookService } from './stripe/stripe-webhook.service.js';

@Module({
  imports: [
    TypeOrmModule.forFeature([Purchase, PurchaseRefund, PurchaseProviderEvent, Package]),
    AccountsModule,
    AuditModule,
    ChangesModule,
    EngineModule,
    EventsModule,
  ],
  controllers: [PurchasesController, StripeWebhookController, PackagesController],
  providers: [
    PurchasesErasureRepository,
    PurchasesRepository,
    PurchasesService,
    PurchaseRefundsService,
    StripeWebhookService,
    PackagesRepository,
    PackagesService,
  ],
  exports: [PurchasesErasureRepository, PurchasesService],
})
export class PurchasesModule {}
