import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

/** A usage record as a correction reads it, locked. */
export interface CorrectedRecordRow {
  id: string;
  user_id: string;
  org_id: string | null;
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
  /** What its corrections moved that was not shortfall: Σ (delta − shortfall_delta). */
  corrected: number;
  /** usage_record_open_shortfall(): what its review has open now. */
  open_shortfall: number;
  /** The review's amount as read (shortfall + Σ review_delta), open or not. */
  review_base: number;
  /** How many corrections it has taken. */
  correction_count: number;
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

export interface NewCorrection {
  id: string;
  recordId: string;
  correctionId: string;
  bodyHash: string;
  previousCredits: number;
  credits: number;
  shortfallDelta: number;
  reviewDelta: number;
  reason: string;
  createdBy: string;
}

const CORRECTION_COLUMNS = `id, record_id, correction_id, body_hash, previous_credits, credits, delta, reason, created_by, created_at`;

/** usage_corrections, and the record state a correction decides on. */
@Injectable()
export class UsageCorrectionsRepository {
  /**
   * The record locked (the lock a review's resolve takes first too, so a correction and a resolve of
   * one record happen one after the other), with what its corrections moved so far.
   */
  async lockRecord(manager: EntityManager, id: string): Promise<CorrectedRecordRow | null> {
    // Locked first, read after: a statement that waited for the lock still reads its corrections as
    // of its start, so a correction committed meanwhile would be missed by the same statement.
    const locked: unknown[] = await manager.query(`SELECT 1 FROM usage_records WHERE id = $1 FOR UPDATE`, [id]);
    if (locked.length === 0) return null;
    const rows: CorrectedRecordRow[] = await manager.query(
      `SELECT r.id, r.user_id, r.org_id, r."timestamp", r.occurred_at, r.credits, r.model_id, r.service_tier, r.api_key_id,
              CASE WHEN r.service LIKE 'chat-streaming%' THEN r.metadata ->> 'sessionId' END AS session_id, r.review_status,
              COALESCE(c.corrected, 0)::int AS corrected,
              CASE WHEN r.review_status = 'open' THEN r.shortfall + COALESCE(c.review, 0) ELSE 0 END::int AS open_shortfall,
              (r.shortfall + COALESCE(c.review, 0))::int AS review_base, c.n AS correction_count
         FROM usage_records r
         LEFT JOIN LATERAL (SELECT sum(x.delta - x.shortfall_delta) AS corrected, sum(x.review_delta) AS review,
                                   count(*)::int AS n
                              FROM usage_corrections x WHERE x.record_id = r.id) c ON true
        WHERE r.id = $1`,
      [id],
    );
    return rows[0] ?? null;
  }

  async find(manager: EntityManager, recordId: string, correctionId: string): Promise<CorrectionRow | null> {
    const rows: CorrectionRow[] = await manager.query(
      `SELECT ${CORRECTION_COLUMNS} FROM usage_corrections WHERE record_id = $1 AND correction_id = $2`,
      [recordId, correctionId],
    );
    return rows[0] ?? null;
  }

  async insert(manager: EntityManager, c: NewCorrection): Promise<CorrectionRow> {
    const rows: CorrectionRow[] = await manager.query(
      // created_at is when it was applied (after the record's lock), not when its transaction began:
      // corrections of one record list in the order they applied, each against the net before it.
      `INSERT INTO usage_corrections (id, record_id, correction_id, body_hash, previous_credits, credits, delta,
                                      shortfall_delta, review_delta, reason, created_by, created_at)
       VALUES ($1, $2, $3, $4, $5::int, $6::int, $6::int - $5::int, $7, $8, $9, $10, clock_timestamp())
       RETURNING ${CORRECTION_COLUMNS}`,
      [
        c.id,
        c.recordId,
        c.correctionId,
        c.bodyHash,
        c.previousCredits,
        c.credits,
        c.shortfallDelta,
        c.reviewDelta,
        c.reason,
        c.createdBy,
      ],
    );
    return rows[0];
  }

  /**
   * Many records corrected in ONE statement (usage_records_correct(), src/usage/sql/), in array order:
   * each record's delta and the credits it moved on its account's balance.
   */
  async correctMany(
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
  ): Promise<{ recordId: string; delta: number; moved: number }[]> {
    const rows: { record_id: string; delta: number; moved: string }[] = await manager.query(
      `SELECT out_record_id AS record_id, out_delta AS delta, out_moved::text AS moved
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
    return rows.map((r) => ({ recordId: r.record_id, delta: r.delta, moved: Number(r.moved) }));
  }

  /** A shortfall a correction could not take opens the record's review (again): its review state only. */
  async openReview(manager: EntityManager, id: string): Promise<void> {
    await manager.query(
      `UPDATE usage_records SET billing_status = 'needs_review', review_status = 'open', resolution = NULL,
              resolved_by = NULL, resolved_at = NULL, resolution_note = NULL
        WHERE id = $1`,
      [id],
    );
  }
}
