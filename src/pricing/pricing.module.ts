import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';

import { AuditModule } from '../audit/audit.module.js';
import { EngineModule } from '../engine/engine.module.js';
import { AccountPricesController } from './account-prices.controller.js';
import { AccountPricesService } from './account-prices.service.js';
import { AccountPricesErasureRepository } from './account-prices-erasure.repository.js';
import { CatalogController } from './catalog/catalog.controller.js';
import { CatalogRepository } from './catalog/catalog.repository.js';
import { CatalogService } from './catalog/catalog.service.js';
import { CatalogMaterialiser } from './catalog/catalog-materialiser.js';
import { AccountPrice } from './entities/account-price.entity.js';
import { PricingRule } from './entities/pricing-rule.entity.js';
import { PricingController } from './pricing.controller.js';
import { PricingRepository } from './pricing.repository.js';
import { PricingService } from './pricing.service.js';
import { PricingCache } from './pricing-cache.js';
import { SteppedQuotes } from './quotes/stepped-quotes.service.js';

@Module({
  imports: [TypeOrmModule.forFeature([PricingRule, AccountPrice]), AuditModule, EngineModule],
  // AccountPricesController and CatalogController first: their routes before PricingController's `:modelId`.
  controllers: [AccountPricesController, CatalogController, PricingController],
  providers: [
    AccountPricesErasureRepository,
    PricingService,
    PricingRepository,
    PricingCache,
    AccountPricesService,
    CatalogRepository,
    CatalogMaterialiser,
    CatalogService,
    SteppedQuotes,
  ],
  exports: [AccountPricesErasureRepository, PricingService, CatalogService, SteppedQuotes],
})
export class PricingModule {}
