import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

import type { AccountKind } from '../accounts/entities/account.entity.js';
import { accountIdOfKindSql } from './credits.sql.js';

/**
 * The account lock (docs/money.md "The account lock"), credits_lock_account_ids(): every movement of credits, and
 * every change of what a movement reads (money settings, subscriptions), takes it first in its
 * transaction. One account's movements serialise; different accounts never wait on each other. Callers
 * name an account by its kind and owner id (a user's account by its user id).
 */
@Injectable()
export class AccountLocksRepository {
  /**
   * Locks the owner's account (a user's by default, an org's with kind `org`) until the transaction
   * ends; false when it does not exist.
   */
  async lock(manager: EntityManager, ownerId: string, kind: AccountKind = 'user'): Promise<boolean> {
    const rows: unknown[] = await manager.query(
      `SELECT 1 FROM credits_lock_account_ids(ARRAY[${accountIdOfKindSql('$1::varchar', '$2')}])`,
      [ownerId, kind],
    );
    return rows.length > 0;
  }
}
