import { Inject, Injectable } from '@nestjs/common';

import { Coalescer } from '../database/coalescer.js';
import { statementRolledBack } from '../database/statement-errors.js';
import { Transactions } from '../database/transactions.js';
import { type CheckQuery, type CheckRow, FeaturesRepository } from './features.repository.js';

/**
 * Checks per statement. The consuming checks go out in lanes by account (CONSUMING_LANES, one statement
 * in flight each): an account's checks always share a lane, so a lane's statements never wait on
 * each other's locks, and one account held by a long transaction stalls only its lane. The checks
 * that consume nothing share one lane of READ_IN_FLIGHT statements.
 */
const MAX_BATCH = 64;
const CONSUMING_LANES = 4;
const READ_IN_FLIGHT = 2;

/** An account's lane: the same account, the same lane (its id modulo the lanes; no account: lane 0). */
function laneOf(accountId: string | null): number {
  return accountId === null ? 0 : Number(BigInt(accountId) % BigInt(CONSUMING_LANES));
}

/**
 * POST /api/entitlements/check outside a request's transaction (docs/features.md "Checks that arrive
 * together"): the checks that arrive together go out as ONE statement (the repository's checks(), a
 * batch of one or more), each decided exactly as it would be alone (a consuming one under its
 * account's lock, in its order of arrival among that account's); the statement's fixed cost (its
 * round trip and, consuming, the commit's WAL flush) is shared. A statement the server refused as a
 * whole is sent again one check at a time (src/database/coalescer.ts).
 */
@Injectable()
export class CoalescedChecks {
  private readonly consuming = new Coalescer<CheckQuery, CheckRow | null>((_lane, items) => this.send(items), {
    maxBatch: MAX_BATCH,
    maxInFlight: 1,
    retryAlone: statementRolledBack,
  });

  private readonly reading = new Coalescer<CheckQuery, CheckRow | null>((_lane, items) => this.send(items), {
    maxBatch: MAX_BATCH,
    maxInFlight: READ_IN_FLIGHT,
    retryAlone: statementRolledBack,
  });

  constructor(
    @Inject(Transactions) private readonly tx: Transactions,
    private readonly repo: FeaturesRepository,
  ) {}

  /** The check's row (null: it names no account), in a statement with the checks that arrive with it. */
  check(query: CheckQuery): Promise<CheckRow | null> {
    if (query.consume === null) return this.reading.submit('read', query);
    return this.consuming.submit(`consume:${laneOf(query.accountId)}`, query);
  }

  private send(items: CheckQuery[]): Promise<(CheckRow | null)[]> {
    return this.repo.checks(this.tx.statementManager, items);
  }
}
