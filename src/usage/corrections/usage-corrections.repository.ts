import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

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

/** A record as usage_records_correct() answers for it. */
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
   * Records corrected in ONE statement (usage_records_correct(), src/usage/sql/; one record is a batch
   * of one), in array order: each record's delta, the credits it moved on its account's balance, and
   * its correction's id, previous credits and time.
   */
  async correct(
    manager: EntityManager,
    c: {
      correctionId: string;
      reason: string;
      createdBy: string;
      recordIds: string[];
      credits: number[];
      bodyHashes: string[];
      expiryDays: number;
      rateDefault: number | null;
      thresholds: number[];
    },
  ): Promise<CorrectedRecord[]> {
    const rows: { record_id: string; delta: number; moved: string; id: string; previous: number; created_at: Date }[] =
      await manager.query(
        `SELECT out_record_id AS record_id, out_delta AS delta, out_moved::text AS moved, out_id AS id,
                out_previous AS previous, out_created_at AS created_at
           FROM usage_records_correct($1, $2, $3, $4::uuid[], $5::int[], $6::varchar[], $7, $8, $9::int[])`,
        [
          c.correctionId,
          c.reason,
          c.createdBy,
          c.recordIds,
          c.credits,
          c.bodyHashes,
          c.expiryDays,
          c.rateDefault,
          c.thresholds,
        ],
      );
    return rows.map((r) => ({
      recordId: r.record_id,
      delta: r.delta,
      moved: Number(r.moved),
      id: r.id,
      previousCredits: r.previous,
      createdAt: r.created_at,
    }));
  }
}
