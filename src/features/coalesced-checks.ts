import { Inject, Injectable } from '@nestjs/common';

import { Coalescer } from '../database/coalescer.js';
import { statementRolledBack } from '../database/statement-errors.js';
import { Transactions } from '../database/transactions.js';
import { type CheckQuery, type CheckRow, FeaturesRepository } from './features.repository.js';

/**
 * Checks per statement. The consuming checks go out in one lane, one statement in flight: lanes by
 * account (four of them) carried a quarter as many checks a statement, and a consuming check cost the
 * database 142 µs against 74 in one lane (docs/benchmarks.md "What a feature check costs beside
 * balance and record"); an account held by a long transaction delays the lane's statement, as a
 * record's does. The checks that consume nothing share one lane of READ_IN_FLIGHT statements.
 */
const MAX_BATCH = 64;
const READ_IN_FLIGHT = 2;

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
    return this.consuming.submit('consume', query);
  }

  private send(items: CheckQuery[]): Promise<(CheckRow | null)[]> {
    return this.repo.checks(this.tx.statementManager, items);
  }
}
