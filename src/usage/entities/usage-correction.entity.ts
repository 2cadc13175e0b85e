import { Check, Column, Entity, ForeignKey, Index, PrimaryColumn, Unique } from 'typeorm';

import { TimestampColumn } from '../../database/timestamp-column.js';
import { UsageRecord } from './usage-record.entity.js';

/**
 * A correction of a usage record (migration 1732000858000): what the record should have cost, and
 * what that changed. The record itself never changes; its net credits are its own and its
 * corrections' (docs/usage.md "Corrections"). The caller's `correctionId` is unique per record, so a
 * retry finds the first answer.
 */
@Entity({ name: 'usage_corrections' })
@Unique('usage_corrections_record_correction_key', ['recordId', 'correctionId'])
@Check('usage_corrections_credits_check', `credits >= 0 AND previous_credits >= 0`)
@Check('usage_corrections_delta_check', `delta = credits - previous_credits`)
@Index('usage_corrections_created_idx', ['createdAt'])
// BRIN on created_xid (migration 1732000862000), for the Parquet exports: @Index has no method.
@Index('usage_corrections_created_xid_brin', { synchronize: false })
export class UsageCorrection {
  @PrimaryColumn({ type: 'uuid', default: () => 'uuid_v7()', primaryKeyConstraintName: 'usage_corrections_pkey' })
  id: string;

  @ForeignKey(() => UsageRecord, { name: 'usage_corrections_record_id_fkey' })
  @Column({ name: 'record_id', type: 'uuid' })
  recordId: string;

  @Column({ name: 'correction_id', type: 'varchar', length: 107 })
  correctionId: string;

  /** sha256 (hex) of the request's body as normalised: the same id with another body is refused. */
  @Column({ name: 'body_hash', type: 'varchar', length: 64 })
  bodyHash: string;

  @Column({ name: 'previous_credits', type: 'integer' })
  previousCredits: number;

  @Column({ type: 'integer' })
  credits: number;

  @Column({ type: 'integer' })
  delta: number;

  /** The part of `delta` that moved the record's open shortfall instead of credits (signed). */
  @Column({ name: 'shortfall_delta', type: 'integer', default: 0 })
  shortfallDelta: number;

  /** What the correction adds to the review's amount as read (usage_record_open_shortfall()). */
  @Column({ name: 'review_delta', type: 'integer', default: 0 })
  reviewDelta: number;

  @Column({ type: 'varchar', length: 500 })
  reason: string;

  @Column({ name: 'created_by', type: 'varchar', length: 50 })
  createdBy: string;

  @TimestampColumn('created_at', { defaultNow: true })
  createdAt: Date;

  /**
   * The transaction that inserted the row (migration 1732000862000): what places it in exactly one
   * Parquet export (docs/exports.md). Null for corrections older than their export.
   */
  @Column({ name: 'created_xid', type: 'bigint', nullable: true, default: () => 'txid_current()' })
  createdXid: string | null;
}
