import { Module } from '@nestjs/common';

import { AccountsService } from './accounts.service.js';

/** The accounts table for other modules (auth, credits); no routes. */
@Module({ providers: [AccountsService], exports: [AccountsService] })
export class AccountsModule {}
