import { Inject, Injectable } from '@nestjs/common';

import { AccountsService } from '../accounts/accounts.service.js';
import type { AccountSync } from '../auth/jwt.strategy.js';
import type { AuthUser } from '../auth/roles.js';
import { SignupCreditsService } from './signup-credits.service.js';

/**
 * The account sync of a token (ACCOUNT_SYNC, which the composition root fills with this): the
 * accounts module's sync, handed the signup grant, so a user's account and its signup allocation
 * commit together. It sits here, above accounts, so accounts calls no module above it.
 */
@Injectable()
export class SignupAccountSync implements AccountSync {
  constructor(
    @Inject(AccountsService) private readonly accounts: AccountsService,
    @Inject(SignupCreditsService) private readonly signup: SignupCreditsService,
  ) {}

  syncFromToken(user: Pick<AuthUser, 'userId' | 'email' | 'username' | 'role'>): Promise<void> {
    return this.accounts.syncFromToken(user, this.signup.onUserCreated);
  }
}
