import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

import { AccountIds } from '../accounts/account-ids.js';
import type { UserCreatedHook } from '../accounts/accounts.service.js';
import { CLOCK, type Clock } from '../common/clock.js';
import { NotFoundError } from '../common/errors/domain-error.js';
import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { CreditsService } from '../credits/engine/credits.service.js';

const DAY_MS = 86_400_000;

/**
 * Signup credits (docs/selling.md): with SIGNUP_CREDITS > 0, a user's account receives one
 * promotional allocation in the transaction that creates it. Exactly once per user id: only the
 * instance whose insert made the account grants, and credit_allocations_signup_idx (one `signup`
 * allocation per account) refuses a second whatever the code does.
 */
@Injectable()
export class SignupCreditsService {
  constructor(
    @Inject(CreditsService) private readonly credits: CreditsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(AccountIds) private readonly ids: AccountIds,
  ) {}

  /**
   * What creating a user's account does (none without SIGNUP_CREDITS): the callers above accounts
   * hand it to the accounts module's creating calls (SignupAccountSync for a token, the allocate
   * route for a grant ahead of a login), which run it in the creating transaction.
   */
  get onUserCreated(): UserCreatedHook | undefined {
    return this.config.selling.signupCredits > 0 ? (manager, userId) => this.grant(manager, userId) : undefined;
  }

  private async grant(manager: EntityManager, userId: string): Promise<void> {
    const { signupCredits, signupCreditsExpiryDays } = this.config.selling;
    // The account this transaction has just created (AccountIds reads it in `manager`).
    const accountId = await this.ids.of(manager, { userId });
    if (accountId === null) throw new NotFoundError('User');
    await this.credits.grantOnce(manager, {
      accountId,
      credits: signupCredits,
      expiresAt: new Date(this.clock.now() + signupCreditsExpiryDays * DAY_MS),
      allocatedBy: 'signup',
      notes: 'signup credits',
      source: 'signup',
    });
  }
}
