import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';

import { AccountsModule } from '../accounts/accounts.module.js';
import { AuditModule } from '../audit/audit.module.js';
import { PlansModule } from '../plans/plans.module.js';
import { CoalescedChecks } from './coalesced-checks.js';
import { Feature } from './entities/feature.entity.js';
import { FeatureOverride } from './entities/feature-override.entity.js';
import { EntitlementsController } from './entitlements.controller.js';
import { EntitlementsService } from './entitlements.service.js';
import { FeaturesController } from './features.controller.js';
import { FeaturesRepository } from './features.repository.js';
import { FeaturesService } from './features.service.js';

/**
 * Features and entitlements (docs/features.md): the catalogue, overrides, the check. Above plans (whose
 * grants it reads, and whose catalogue routes the composition root hands its grant check,
 * `FeaturesService.grantCheck`) and credits (whose cap functions count a metered feature's use).
 */
@Module({
  imports: [TypeOrmModule.forFeature([Feature, FeatureOverride]), AccountsModule, AuditModule, PlansModule],
  controllers: [FeaturesController, EntitlementsController],
  providers: [FeaturesRepository, FeaturesService, EntitlementsService, CoalescedChecks],
  exports: [FeaturesService],
})
export class FeaturesModule {}
