import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';

import { AccountsService } from './accounts.service.js';
import { UserAccount } from './entities/user-account.entity.js';
import { UsersRepository } from './users.repository.js';

/** The accounts table for other modules (auth, credits); no routes. */
@Module({
  imports: [TypeOrmModule.forFeature([UserAccount])],
  providers: [AccountsService, UsersRepository],
  exports: [AccountsService, UsersRepository],
})
export class AccountsModule {}
