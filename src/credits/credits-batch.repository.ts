import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

import type { TakeSpec } from './credits.repository.js';

/**
 * What runs after each take of a batch, in the take's statement (see CreditsService.debitAndInsertMany):
 * the event id claimed in the owner's namespace and the usage record inserted when the take happened.
 */
export interface BatchInsertAfterTake {
  /** Whose namespace the event ids are (the caller). */
  owner: string;
  /**
   * In the order they apply; event ids unique. `record` holds usage_records columns (snake_case); the
   * ledger entries point at its `id`.
   */
  events: {
    userId: string;
    eventId: string | null;
    amount: number;
    record: { id: string } & Record<string, unknown>;
  }[];
}

/** One row of credits_take_events() (migration 1732000012000). */
export interface BatchTakeRow {
  out_ord: number;
  out_status: 'ok' | 'duplicate' | 'unknown_user' | 'insufficient' | 'key_limit' | 'rate_limited';
  out_usage_record_id: string | null;
  out_collected: string;
  out_debt: string;
  out_balance: string;
  out_retry_after: number | null;
}

/** The batch take's statement: ONE round trip for every event of a batch, whoever's they are. */
@Injectable()
export class CreditsBatchRepository {
  async takeBatch(
    manager: EntityManager,
    take: Pick<TakeSpec, 'apiKeyId' | 'rateDefault' | 'thresholds'> & { createdBy: string },
    then: BatchInsertAfterTake,
  ): Promise<BatchTakeRow[]> {
    const events = then.events.map((e) => ({
      ...e.record,
      user_id: e.userId,
      event_id: e.eventId,
      credits: e.amount,
    }));
    const rows: BatchTakeRow[] = await manager.query(
      `SELECT * FROM credits_take_events($1, $2, $3::uuid, $4::int, $5::int[], $6::jsonb) ORDER BY out_ord`,
      [then.owner, take.createdBy, take.apiKeyId ?? null, take.rateDefault, take.thresholds, JSON.stringify(events)],
    );
    return rows;
  }
}
