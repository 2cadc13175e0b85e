import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

import { DomainError, NotFoundError } from '../../common/errors/domain-error.js';
import { AutoRechargeRepository, type SucceedOutcome } from './auto-recharge.repository.js';

const ATTEMPT = 'Auto-recharge attempt';

/**
 * The attempts the takes open (auto_recharge_check()) as the purchase made for one closes it
 * (docs/auto-recharge.md): checked open when the purchase is created, closed as succeeded when it is
 * paid, both in the purchase's transaction. The settings' routes and the platform's failure are the
 * credits tenants' (src/credits/auto-recharge/).
 */
@Injectable()
export class AutoRechargeAttempts {
  constructor(@Inject(AutoRechargeRepository) private readonly repo: AutoRechargeRepository) {}

  /**
   * For the purchase created with `autoRechargeAttemptId` (in its transaction): the attempt must be the
   * account's own (else 404, as for an unknown id) and still open (else 409).
   */
  async assertOpen(manager: EntityManager, attemptId: string, accountId: string): Promise<void> {
    const attempt = await this.repo.attempt(manager, attemptId);
    if (!attempt || attempt.accountId !== accountId) {
      throw new NotFoundError(ATTEMPT);
    }
    if (attempt.status !== 'open') {
      throw new DomainError('AUTO_RECHARGE_ATTEMPT_CLOSED', `This auto-recharge attempt has ${attempt.status}`);
    }
  }

  /**
   * The one call of the purchase's paid path (in its transaction): closes the attempt as succeeded.
   * Never throws for the attempt's state: the purchase was paid whatever happened to it
   * (`failed`: it was failed before the payment came; it stays failed).
   */
  async succeed(manager: EntityManager, attemptId: string, accountId: string): Promise<SucceedOutcome> {
    return this.repo.succeed(manager, attemptId, accountId);
  }
}
