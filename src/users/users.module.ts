import { Module } from '@nestjs/common';

import { CreditsModule } from '../credits/credits.module.js';
import { PlansModule } from '../plans/plans.module.js';
import { AccountsModule } from './accounts.module.js';
import { UsersController } from './users.controller.js';
import { UsersService } from './users.service.js';

@Module({
  imports: [AccountsModule, CreditsModule, PlansModule],
  controllers: [UsersController],
  providers: [UsersService],
  exports: [UsersService],
})
export class UsersModule {}
