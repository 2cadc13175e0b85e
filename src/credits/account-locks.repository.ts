import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

import { AccountIds } from '../accounts/account-ids.js';
import type { AccountRef } from '../accounts/account-ref.js';
import type { AccountKind } from '../accounts/entities/account.entity.js';

/**
 * The account lock (docs/money.md "The account lock"), credits_lock_account_ids(): every movement of credits, and
 * every change of what a movement reads (money settings, subscriptions), takes it first in its
 * transaction. One account's movements serialise; different accounts never wait on each other. Callers
 * name an account by its kind and owner id (a user's account by its user id); AccountIds gives its id.
 */
@Injectable()
export class AccountLocksRepository {
  constructor(@Inject(AccountIds) private readonly ids: AccountIds) {}

  /**
   * Locks the owner's account (a user's by default, an org's with kind `org`) until the transaction
   * ends; false when it does not exist.
   */
  async lock(manager: EntityManager, ownerId: string, kind: AccountKind = 'user'): Promise<boolean> {
    return (await this.lockOwner(manager, { kind, id: ownerId })) !== null;
  }

  /** Locks the account `owner` names until the transaction ends; its id, null when there is none. */
  async lockOwner(manager: EntityManager, owner: AccountRef): Promise<string | null> {
    const accountId = await this.ids.of(manager, owner);
    return accountId !== null && (await this.lockId(manager, accountId)) ? accountId : null;
  }

  /** Locks the account `accountId` until the transaction ends; false when it does not exist. */
  async lockId(manager: EntityManager, accountId: string): Promise<boolean> {
    const rows: unknown[] = await manager.query(`SELECT 1 FROM credits_lock_account_ids(ARRAY[$1::bigint])`, [
      accountId,
    ]);
    return rows.length > 0;
  }
}
