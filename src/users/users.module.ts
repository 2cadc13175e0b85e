import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';

import { AccountsModule } from '../accounts/accounts.module.js';
import { UserAccount } from '../accounts/entities/user-account.entity.js';
import { CreditsModule } from '../credits/credits.module.js';
import { PlansModule } from '../plans/plans.module.js';
import { UsersController } from './users.controller.js';
import { UsersRepository } from './users.repository.js';
import { UsersService } from './users.service.js';

/** The user routes (/api/users): the list, one user, the overview. The account rows are src/accounts/'s. */
@Module({
  imports: [AccountsModule, CreditsModule, PlansModule, TypeOrmModule.forFeature([UserAccount])],
  controllers: [UsersController],
  providers: [UsersService, UsersRepository],
  exports: [UsersService],
})
export class UsersModule {}
