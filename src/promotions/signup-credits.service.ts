import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

import type { UserCreatedHook } from '../accounts/accounts.service.js';
import { CLOCK, type Clock } from '../common/clock.js';
import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { CreditsService } from '../engine/credits.service.js';

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
  ) {}

  /**
   * What creating a user's account does (none without SIGNUP_CREDITS): the callers above accounts
   * hand it to the accounts module's creating calls (SignupAccountSync for a token, the allocate
   * route for a grant ahead of a login), which run it in the creating transaction.
   */
  get onUserCreated(): UserCreatedHook | undefined {
    return this.config.selling.signupCredits > 0
      ? (manager, { accountId }) => this.grant(manager, accountId)
      : undefined;
  }

  /** The grant on the account the creating transaction has just made (the accounts module names it). */
  private async grant(manager: EntityManager, accountId: string): Promise<void> {
    const { signupCredits, signupCreditsExpiryDays } = this.config.selling;
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
