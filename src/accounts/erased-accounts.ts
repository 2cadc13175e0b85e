import { Injectable } from '@nestjs/common';

import { AccountErasedError } from '../common/errors/domain-error.js';

/**
 * The users this instance knows to be erased (docs/erasure.md), so that the metering routes, grants
 * and purchases refuse them without a statement of their own. AccountsService fills it: every erased
 * id when it starts listening (again), then each erasure's NOTIFY; an erasure is never undone, so the
 * set only grows.
 */
@Injectable()
export class ErasedAccounts {
  private readonly ids = new Set<string>();

  has(userId: string): boolean {
    return this.ids.has(userId);
  }

  add(userId: string): void {
    this.ids.add(userId);
  }

  /** Refuses a write for an erased user (409 ACCOUNT_ERASED). */
  assertNotErased(userId: string | null | undefined): void {
    if (userId != null && this.ids.has(userId)) throw new AccountErasedError(409);
  }
}
