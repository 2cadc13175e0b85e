import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';

import { AccountsModule } from '../accounts/accounts.module.js';
import { UserAccount } from '../accounts/entities/user-account.entity.js';
import { ApiKeysModule } from '../api-keys/api-keys.module.js';
import { AuditModule } from '../audit/audit.module.js';
import { CreditsModule } from '../credits/credits.module.js';
import { EngineModule } from '../engine/engine.module.js';
import { EventsModule } from '../events/events.module.js';
import { NotificationsModule } from '../notifications/notifications.module.js';
import { PlansModule } from '../plans/plans.module.js';
import { PortalModule } from '../portal/portal.module.js';
import { PricingModule } from '../pricing/pricing.module.js';
import { PurchasesModule } from '../purchases/purchases.module.js';
import { StreamingSessionsModule } from '../streaming-sessions/streaming-sessions.module.js';
import { UsageModule } from '../usage/usage.module.js';
import { ErasureService } from './erasure.service.js';
import { UsersController } from './users.controller.js';
import { UsersRepository } from './users.repository.js';
import { UsersService } from './users.service.js';

/**
 * The user routes (/api/users): the list, one user, the overview, the erasure of a person (which asks
 * each module keeping the person's email or username to take them out); a user's subscription is
 * UserSubscriptionsModule's. The account rows are src/accounts/'s.
 */
@Module({
  imports: [
    AccountsModule,
    ApiKeysModule,
    AuditModule,
    CreditsModule,
    EngineModule,
    EventsModule,
    NotificationsModule,
    PlansModule,
    PortalModule,
    PricingModule,
    PurchasesModule,
    StreamingSessionsModule,
    UsageModule,
    TypeOrmModule.forFeature([UserAccount]),
  ],
  controllers: [UsersController],
  providers: [UsersService, UsersRepository, ErasureService],
  exports: [UsersService],
})
export class UsersModule {}
