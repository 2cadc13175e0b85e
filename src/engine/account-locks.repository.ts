import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

/**
 * The account lock (docs/money.md "The account lock"), credits_lock_account_ids(): every movement of credits, and
 * every change of what a movement reads (money settings, subscriptions), takes it first in its
 * transaction. One account's movements serialise; different accounts never wait on each other. Callers
 * name the account by its id: the one the edge resolved, or the one the row they work on carries.
 */
@Injectable()
export class AccountLocksRepository {
  /** Locks the account `accountId` until the transaction ends; false when it does not exist. */
  async lockId(manager: EntityManager, accountId: string): Promise<boolean> {
    const rows: unknown[] = await manager.query(`SELECT 1 FROM credits_lock_account_ids(ARRAY[$1::bigint])`, [
      accountId,
    ]);
    return rows.length > 0;
  }
}
