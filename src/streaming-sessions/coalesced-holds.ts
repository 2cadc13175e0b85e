import { Inject, Injectable } from '@nestjs/common';

import { Coalescer } from '../database/coalescer.js';
import { statementRolledBack } from '../database/statement-errors.js';
import type { SqlPart } from '../database/statement-parts.js';
import { Transactions } from '../database/transactions.js';
import type { HoldRequest } from '../engine/credits.service.js';
import { CreditsService } from '../engine/credits.service.js';
import { type Held, holdOf } from '../engine/credits.service.js';
import {
  type NewSession,
  sessionFields,
  type SessionRow,
  StreamingSessionsRepository,
} from './streaming-sessions.repository.js';

/** What an initialize's hold answers: the session's row, the hold's refusal, or null (the id is taken). */
export type HeldSession = Held<SessionRow>;

interface Pending {
  hold: HoldRequest;
  session: NewSession;
}

/**
 * Initializations per statement, and statements in flight per lane, as the records': one in flight
 * lets the ones that arrive meanwhile wait for it and go out together (src/usage/coalesced-records.ts).
 */
const MAX_BATCH = 64;
const MAX_IN_FLIGHT = 1;
/** The lane of a hold: the key it counts against (none: users' and members' own tokens), whoever's session it is. */
const laneOf = (hold: HoldRequest): string => hold.refs.apiKeyId ?? '';

/**
 * POST /api/streaming-sessions/initialize outside a request's transaction (docs/money.md
 * "Initializations that arrive together"): the initializations through one key (none: own tokens),
 * whoever opens them, that arrive together are held by ONE statement, each in its order of arrival,
 * exactly as one alone: a session id already used holds nothing, the rest are one credits_hold()
 * call (one take), and the session rows of the holds that happened are one INSERT. Each is answered
 * its own row, refusal or taken id; a statement the server refused as a whole (a unique key taken,
 * by a concurrent statement or by two of its own items) is sent again one initialization at a time
 * (src/database/coalescer.ts), which gives each the answer it gets alone.
 */
@Injectable()
export class CoalescedHolds {
  private readonly coalescer = new Coalescer<Pending, HeldSession>((key, items) => this.send(key, items), {
    maxBatch: MAX_BATCH,
    maxInFlight: MAX_IN_FLIGHT,
    retryAlone: statementRolledBack,
  });

  constructor(
    @Inject(Transactions) private readonly tx: Transactions,
    @Inject(CreditsService) private readonly credits: CreditsService,
    private readonly sessions: StreamingSessionsRepository,
  ) {}

  /**
   * The session held and inserted, as CreditsService.holdAndInsert answers it alone. Outside a
   * request's transaction and without a condition (`onlyIf`, the gateway's key check) it goes out
   * with the others of its lane, in whichever request's turn sends the statement (so nothing it does
   * depends on the request's async context); else as the statement of one.
   */
  async hold(hold: HoldRequest, session: NewSession, onlyIf?: SqlPart): Promise<HeldSession> {
    if (onlyIf || this.tx.inTransaction)
      return this.credits.holdAndInsert(this.tx.statementManager, hold, this.sessions.insertAfterHold(session, onlyIf));
    holdOf(hold); // what a hold alone is refused before its statement, refused alone
    return this.coalescer.submit(laneOf(hold), { hold, session });
  }

  /** One statement for the initializations of one lane: one alone is a batch of one. */
  private send(key: string, items: Pending[]): Promise<(HeldSession | Error)[]> {
    return this.credits.holdAndInsertMany<SessionRow>(
      this.tx.statementManager,
      key === '' ? null : key,
      items.map((p) => ({ hold: p.hold, fields: sessionFields(p.session) })),
      this.sessions.insertAfterHolds(),
    );
  }
}
