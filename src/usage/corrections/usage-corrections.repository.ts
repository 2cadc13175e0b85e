import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

import type { CorrectedItem, CorrectStatement } from '../../engine/credits.service.js';
import { recordNet } from '../record-net.js';

/** A usage record as a correction reads it, locked. */
export interface CorrectedRecordRow {
  id: string;
  user_id: string;
  org_id: string | null;
  /** The account that paid: what it is priced again for. */
  account_id: string;
  timestamp: Date;
  /** When the usage happened: what prices it (docs/usage.md "Late usage"). */
  occurred_at: Date;
  credits: number;
  model_id: string | null;
  service_tier: string | null;
  api_key_id: string | null;
  /** The streaming session it settled (its metadata's sessionId, for the chat-streaming services). */
  session_id: string | null;
  review_status: 'open' | 'resolved' | null;
  /** Its net credits: its credits, what its corrections moved, and what its review has open. */
  net: number;
  /** How many corrections it has taken. */
  correction_count: number;
  /** The correction it already has under the correction id asked for, if any. */
  found: CorrectionRow | null;
}

export interface CorrectionRow {
  id: string;
  record_id: string;
  correction_id: string;
  body_hash: string;
  previous_credits: number;
  credits: number;
  delta: number;
  reason: string;
  created_by: string;
  created_at: Date;
}

/** A record as the correction's statement answers for it (the finish's row, usage_records_correct_finish()). */
export interface CorrectedRecordAnswer {
  record_id: string;
  delta: number;
  id: string;
  previous: number;
  created_at: Date;
}

/** A record corrected: its answer and what the engine moved for it. */
export interface CorrectedRecord {
  recordId: string;
  delta: number;
  /** Credits moved on its account's balance: returned + regranted − collected − debt. */
  moved: number;
  /** Its correction (usage_corrections.id), its previous credits and when it applied. */
  id: string;
  previousCredits: number;
  createdAt: Date;
}

const CORRECTION_COLUMNS = `id, record_id, correction_id, body_hash, previous_credits, credits, delta, reason, created_by, created_at`;

/** usage_corrections, and the record state a correction decides on. */
@Injectable()
export class UsageCorrectionsRepository {
  /** A record's owner columns (null: no such record): the access guard's read of the account it names. */
  async owners(manager: EntityManager, id: string): Promise<{ user_id: string; org_id: string | null } | null> {
    const rows: { user_id: string; org_id: string | null }[] = await manager.query(
      `SELECT user_id, org_id FROM usage_records WHERE id = $1`,
      [id],
    );
    return rows[0] ?? null;
  }

  /**
   * The record locked (the lock a review's resolve takes first too, so a correction and a resolve of
   * one record happen one after the other), with its net and its correction `correctionId` if it has
   * one.
   */
  async lockRecord(manager: EntityManager, id: string, correctionId: string): Promise<CorrectedRecordRow | null> {
    // Locked first, read after: a statement that waited for the lock still reads its corrections as
    // of its start, so a correction committed meanwhile would be missed by the same statement.
    const locked: unknown[] = await manager.query(`SELECT 1 FROM usage_records WHERE id = $1 FOR UPDATE`, [id]);
    if (locked.length === 0) return null;
    const rows: (CorrectedRecordRow & { found: CorrectionRow | null })[] = await manager.query(
      `SELECT r.id, r.user_id, r.org_id, r.account_id, r."timestamp", r.occurred_at, r.credits, r.model_id, r.service_tier, r.api_key_id,
              CASE WHEN r.service LIKE 'chat-streaming%' THEN r.metadata ->> 'sessionId' END AS session_id, r.review_status,
              n.net_credits AS net, n.correction_count,
              (SELECT row_to_json(f) FROM (SELECT ${CORRECTION_COLUMNS} FROM usage_corrections
                                            WHERE record_id = r.id AND correction_id = $2) f) AS found
         FROM usage_records r
         CROSS JOIN LATERAL ${recordNet('r')} n
        WHERE r.id = $1`,
      [id, correctionId],
    );
    const row = rows[0];
    if (!row) return null;
    // row_to_json gives the time as text
    if (row.found) row.found.created_at = new Date(row.found.created_at);
    return row;
  }

  /**
   * The usage module's parts of records corrected in ONE statement (CreditsService.correct(); one
   * record is a batch of one), in array order: usage_records_correct_begin() (src/usage/sql/) locks
   * and reads the records (`correcting`), usage_records_correct_finish() writes their corrections,
   * reviews and events once the engine moved their credits (`written`).
   */
  correctStatement(c: {
    correctionId: string;
    reason: string;
    createdBy: string;
    recordIds: string[];
    credits: number[];
    bodyHashes: string[];
  }): CorrectStatement {
    return {
      name: 'usage_correct',
      records: {
        sql: `SELECT b.out_ord AS ord, b.out_moves AS moves, b.out_account AS account_id, b.out_record_id AS record_id,
                     b.out_id AS correction, b.out_session AS session_id, b.out_delta AS delta, b.out_open AS open_review,
                     b.out_member AS member_id, b.out_api_key_id AS api_key_id, b.out_at AS at, b.out_model AS model_id,
                     b.out_occurred AS occurred_at, b.out_tokens AS tokens, b.out_charged AS charged, b.out_returned AS returned,
                     b.out_credits AS credits, b.out_body_hash AS body_hash, b.out_found AS found, b.out_previous AS previous,
                     b.out_review AS review, b.out_base AS review_base, b.out_user AS user_id, b.out_org AS org_id
                FROM usage_records_correct_begin($1, $2::uuid[], $3::int[], $4::varchar[]) b`,
        params: [c.correctionId, c.recordIds, c.credits, c.bodyHashes],
      },
      writes: {
        sql: `SELECT f.out_ord AS ord, f.out_record_id AS record_id, f.out_delta AS delta, f.out_id AS id,
                     f.out_previous AS previous, f.out_created_at AS created_at
                FROM (SELECT array_agg(t.record_id ORDER BY t.ord) AS record_id, array_agg(t.credits ORDER BY t.ord) AS credits,
                             array_agg(t.body_hash ORDER BY t.ord) AS body_hash, array_agg(t.found ORDER BY t.ord) AS found,
                             array_agg(t.correction ORDER BY t.ord) AS correction, array_agg(t.previous ORDER BY t.ord) AS previous,
                             array_agg(t.review ORDER BY t.ord) AS review, array_agg(t.review_base ORDER BY t.ord) AS review_base,
                             array_agg(t.user_id ORDER BY t.ord) AS user_id, array_agg(t.org_id ORDER BY t.ord) AS org_id,
                             array_agg(COALESCE(k.shortfall, 0)::int ORDER BY t.ord) AS shortfall
                        FROM correcting t
                        LEFT JOIN corrected k ON k.ord = t.ord) a
               CROSS JOIN LATERAL usage_records_correct_finish($1, $2, $3, a.record_id, a.credits, a.body_hash, a.found,
                                                              a.correction, a.previous, a.review, a.review_base, a.user_id,
                                                              a.org_id, a.shortfall) f`,
        params: [c.correctionId, c.reason, c.createdBy],
      },
    };
  }
}

/** The records as CreditsService.correct() answers for the statement of correctStatement(). */
export function toCorrected(items: CorrectedItem<CorrectedRecordAnswer>[]): CorrectedRecord[] {
  return items.map(({ row, moved }) => ({
    recordId: row.record_id,
    delta: row.delta,
    moved,
    id: row.id,
    previousCredits: row.previous,
    createdAt: row.created_at,
  }));
}
