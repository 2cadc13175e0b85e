import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';

import { AccountsModule } from '../accounts/accounts.module.js';
import { Org } from '../accounts/entities/org.entity.js';
import { OrgMember } from '../accounts/entities/org-member.entity.js';
import { ApiKeysModule } from '../api-keys/api-keys.module.js';
import { AuditModule } from '../audit/audit.module.js';
import { ChangesModule } from '../changes/changes.module.js';
import { CreditsModule } from '../credits/credits.module.js';
import { EngineModule } from '../engine/engine.module.js';
import { PlansModule } from '../plans/plans.module.js';
import { PricingModule } from '../pricing/pricing.module.js';
import { StreamingSessionsModule } from '../streaming-sessions/streaming-sessions.module.js';
import { UsageModule } from '../usage/usage.module.js';
import { OrgMembersController } from './org-members.controller.js';
import { OrgMembersService } from './org-members.service.js';
import { OrgMoneyController } from './org-money.controller.js';
import { OrgPlanController } from './org-plan.controller.js';
import { OrgsController } from './orgs.controller.js';
import { OrgsRepository } from './orgs.repository.js';
import { OrgsService } from './orgs.service.js';

/**
 * Organisations (docs/orgs.md): the orgs, their members and roles, and the org's view of
 * its account's money. The money itself is the credits module's (the org's account, by account kind).
 */
@Module({
  imports: [
    TypeOrmModule.forFeature([Org, OrgMember]),
    AccountsModule,
    ApiKeysModule,
    AuditModule,
    ChangesModule,
    CreditsModule,
    EngineModule,
    UsageModule,
    PlansModule,
    PricingModule,
    StreamingSessionsModule,
  ],
  controllers: [OrgsController, OrgMembersController, OrgMoneyController, OrgPlanController],
  providers: [OrgsRepository, OrgsService, OrgMembersService],
})
export class OrgsModule {}
