import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

/**
 * The account lock (docs/money.md "Locking"), credits_lock_accounts(): every movement of credits, and
 * every change of what a movement reads (money settings, subscriptions), takes it first in its
 * transaction. One account's movements serialise; different accounts never wait on each other. An
 * account is, for now, a user.
 */
@Injectable()
export class AccountLocksRepository {
  /** Locks the account until the transaction ends; false when it does not exist. */
  async lock(manager: EntityManager, accountId: string): Promise<boolean> {
    const rows: unknown[] = await manager.query(`SELECT 1 FROM credits_lock_accounts(ARRAY[$1]::varchar[])`, [
      accountId,
    ]);
    return rows.length > 0;
  }
}
