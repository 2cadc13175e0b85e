import { Inject, Injectable } from '@nestjs/common';

import { Coalescer } from '../database/coalescer.js';
import { statementRolledBack } from '../database/statement-errors.js';
import type { Condition } from '../database/statement-parts.js';
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
  /** A condition of another module the statement checks (the gateway's key still as read); none: none. */
  onlyIf?: Condition;
}

/**
 * Initializations per statement, and statements in flight per lane, as the records': one in flight
 * lets the ones that arrive meanwhile wait for it and go out together (src/usage/coalesced-records.ts).
 */
const MAX_BATCH = 64;
const MAX_IN_FLIGHT = 1;
/**
 * The lane of a hold: the key it counts against (none: users' and members' own tokens), whoever's
 * session it is; with a condition (the gateway's key check), the condition's text and shared
 * parameters, whatever the key: each hold meets it on its own values and goes through its own key, so
 * the requests of many keys share a statement as one key's do.
 */
const laneOf = ({ hold, onlyIf }: Pending): string =>
  onlyIf ? JSON.stringify(['if', onlyIf.each.sql, onlyIf.each.params]) : (hold.refs.apiKeyId ?? '');

/**
 * POST /api/streaming-sessions/initialize outside a request's transaction, and the gateway's
 * (docs/money.md "Initializations that arrive together"): the initializations through one key (none:
 * own tokens), or with the gateway's key check through any, whoever opens them, that arrive together
 * are held by ONE statement, each in its order of arrival, exactly as one alone: a session id already
 * used holds nothing, nor does a hold whose condition is false, the rest are held by the credits
 * engine's door (CreditsService.holdAndInsertMany: through one key, or each through its own), and the
 * session rows of the holds that happened are one INSERT. Each is answered its own row, refusal or taken id; a statement the server refused as a whole
 * (a unique key taken, by a concurrent statement or by two of its own items) is sent again one
 * initialization at a time (src/database/coalescer.ts), which gives each the answer it gets alone.
 */
@Injectable()
export class CoalescedHolds {
  private readonly coalescer = new Coalescer<Pending, HeldSession>((_lane, items) => this.send(items), {
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
   * request's transaction it goes out with the others of its lane, in whichever request's turn sends
   * the statement (so nothing it does depends on the request's async context); else as the
   * statement of one, in that transaction.
   */
  async hold(hold: HoldRequest, session: NewSession, onlyIf?: Condition): Promise<HeldSession> {
    if (this.tx.inTransaction)
      return this.credits.holdAndInsert(this.tx.statementManager, hold, this.sessions.insertAfterHold(session, onlyIf));
    holdOf(hold); // what a hold alone is refused before its statement, refused alone
    const pending: Pending = { hold, session, ...(onlyIf ? { onlyIf } : {}) };
    return this.coalescer.submit(laneOf(pending), pending);
  }

  /**
   * One statement for the initializations of one lane: one alone is a batch of one, except a lone
   * one with a condition (the gateway's lone request), which is the statement of one: as the
   * statement of many it cost the database a third to a half more a gateway request
   * (docs/benchmarks.md "Initializations that arrive together").
   */
  private async send(items: Pending[]): Promise<(HeldSession | Error)[]> {
    const { onlyIf } = items[0];
    if (onlyIf && items.length === 1) {
      const { hold, session } = items[0];
      return [
        await this.credits.holdAndInsert(
          this.tx.statementManager,
          hold,
          this.sessions.insertAfterHold(session, onlyIf),
        ),
      ];
    }
    if (onlyIf)
      return this.credits.holdAndInsertMany<SessionRow>(
        this.tx.statementManager,
        'each',
        items.map((p) => ({ hold: p.hold, fields: { ...sessionFields(p.session), ...p.onlyIf!.each.fields } })),
        this.sessions.insertAfterHolds(onlyIf.each),
      );
    return this.credits.holdAndInsertMany<SessionRow>(
      this.tx.statementManager,
      { apiKeyId: items[0].hold.refs.apiKeyId ?? null },
      items.map((p) => ({ hold: p.hold, fields: sessionFields(p.session) })),
      this.sessions.insertAfterHolds(),
    );
  }
}
