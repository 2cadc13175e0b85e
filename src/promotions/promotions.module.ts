import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';

import { AccountsModule } from '../accounts/accounts.module.js';
import { AuditModule } from '../audit/audit.module.js';
import { ChangesModule } from '../changes/changes.module.js';
import { EngineModule } from '../engine/engine.module.js';
import { EventsModule } from '../events/events.module.js';
import { Promotion } from './entities/promotion.entity.js';
import { PromotionFailure } from './entities/promotion-failure.entity.js';
import { PromotionRedemption } from './entities/promotion-redemption.entity.js';
import { PromotionFailuresJob } from './promotion-failures.job.js';
import { PromotionRedemptionsService } from './promotion-redemptions.service.js';
import { PromotionsController } from './promotions.controller.js';
import { PromotionsRepository } from './promotions.repository.js';
import { PromotionsService } from './promotions.service.js';
import { SignupAccountSync } from './signup-account-sync.js';
import { SignupCreditsService } from './signup-credits.service.js';

/**
 * Promotion codes and signup credits: promotional grants, each through the credits module. It also
 * fills ACCOUNT_SYNC (SignupAccountSync) and serves the manual grant's route, the two callers that
 * create a user's account, so each hands the signup grant down to the accounts module.
 */
@Module({
  imports: [
    TypeOrmModule.forFeature([Promotion, PromotionRedemption, PromotionFailure]),
    AccountsModule,
    AuditModule,
    ChangesModule,
    EngineModule,
    EventsModule,
  ],
  controllers: [PromotionsController],
  providers: [
    PromotionsRepository,
    PromotionsService,
    PromotionRedemptionsService,
    SignupCreditsService,
    PromotionFailuresJob,
    SignupAccountSync,
  ],
  exports: [SignupAccountSync, SignupCreditsService],
})
export class PromotionsModule {}
