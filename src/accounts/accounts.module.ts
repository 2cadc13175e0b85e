import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';

import { AccountIds } from './account-ids.js';
import { AccountResolver } from './account-resolver.js';
import { AccountsRepository } from './accounts.repository.js';
import { AccountsService } from './accounts.service.js';
import { BillingCurrencies } from './billing-currencies.service.js';
import { Account } from './entities/account.entity.js';
import { UserAccount } from './entities/user-account.entity.js';
import { ErasedAccounts } from './erased-accounts.js';
import { OrgRecordsRepository } from './org-records.repository.js';
import { OrgRecordsService } from './org-records.service.js';

/** The low-level accounts module: the account rows for other modules (auth, credits, users); no routes. */
@Module({
  imports: [TypeOrmModule.forFeature([UserAccount, Account])],
  providers: [
    AccountsService,
    AccountsRepository,
    BillingCurrencies,
    AccountResolver,
    AccountIds,
    ErasedAccounts,
    OrgRecordsService,
    OrgRecordsRepository,
  ],
  exports: [AccountsService, BillingCurrencies, AccountResolver, AccountIds, ErasedAccounts, OrgRecordsService],
})
export class AccountsModule {}
