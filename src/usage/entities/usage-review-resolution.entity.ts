import { Check, Column, Entity, ForeignKey, Index, PrimaryColumn } from 'typeorm';

import { TimestampColumn } from '../../database/timestamp-column.js';
import { UsageRecord } from './usage-record.entity.js';

/**
 * A review's resolution (migration 1732001060000), written by usage_record_resolve() beside its update
 * of the record: the record's row keeps only its latest review state, and a collect adds to its
 * credits, so this row is what tells an export (docs/exports.md) that the record changed, and by how
 * much. A record resolved, opened again by a correction and resolved again has two.
 */
@Entity({ name: 'usage_review_resolutions' })
@Check('usage_review_resolutions_resolution_check', `resolution IN ('write_off', 'collect')`)
@Check('usage_review_resolutions_amounts_check', `collected >= 0 AND collected <= open_shortfall`)
@Index('usage_review_resolutions_record_idx', ['recordId'])
// BRIN on created_xid, for the Parquet exports: @Index has no method.
@Index('usage_review_resolutions_created_xid_brin', { synchronize: false })
export class UsageReviewResolution {
  @PrimaryColumn({
    type: 'uuid',
    default: () => 'uuid_v7()',
    primaryKeyConstraintName: 'usage_review_resolutions_pkey',
  })
  id: string;

  @ForeignKey(() => UsageRecord, { name: 'usage_review_resolutions_record_id_fkey' })
  @Column({ name: 'record_id', type: 'uuid' })
  recordId: string;

  @Column({ type: 'varchar', length: 20 })
  resolution: 'write_off' | 'collect';

  /** The shortfall the review had open when it was resolved (its corrections included). */
  @Column({ name: 'open_shortfall', type: 'integer' })
  openShortfall: number;

  /** What a collect added to the record's credits (0 for a write-off). */
  @Column({ type: 'integer' })
  collected: number;

  @Column({ name: 'created_by', type: 'varchar', length: 50 })
  createdBy: string;

  @TimestampColumn('created_at', { defaultNow: true })
  createdAt: Date;

  /** The transaction that inserted the row: what places it in exactly one Parquet export. */
  @Column({ name: 'created_xid', type: 'bigint', nullable: true, default: () => 'txid_current()' })
  createdXid: string | null;
}
