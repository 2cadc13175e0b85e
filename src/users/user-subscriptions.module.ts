import { Module } from '@nestjs/common';

import { PlansModule } from '../plans/plans.module.js';
import { SubscriptionsController } from './subscriptions.controller.js';

/**
 * A user's subscription under /api/users (`/api/users/:userId/subscription`): the route is the users
 * folder's, its rules the plans module's (SubscriptionsService). A module of its own, imported by the
 * composition root where the plans module is, so the OpenAPI document lists its operations where it
 * always has.
 */
@Module({
  imports: [PlansModule],
  controllers: [SubscriptionsController],
})
export class UserSubscriptionsModule {}
