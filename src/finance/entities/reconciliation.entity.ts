import { Check, Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

import { TimestampColumn } from '../../database/timestamp-column.js';
import type { MismatchedItem, MissingItem, UnknownItem } from '../reconciliation-report.js';

/**
 * One uploaded Stripe payout reconciliation report (migration 1732000053000) and what it matched.
 * `reportSha256` finds the same report uploaded again; the lists are kept as they were answered.
 */
@Entity({ name: 'finance_reconciliations' })
@Check('finance_reconciliations_report_sha256_length', `octet_length(report_sha256) = 32`)
@Check('finance_reconciliations_row_count_check', `row_count >= 0`)
@Check('finance_reconciliations_matched_check', `matched >= 0`)
@Index('finance_reconciliations_report_idx', ['reportSha256'], { unique: true })
@Index('finance_reconciliations_created_idx', ['createdAt', 'id'])
export class Reconciliation {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'finance_reconciliations_pkey' })
  id: string;

  @Column({ name: 'report_sha256', type: 'bytea' })
  reportSha256: Buffer;

  @Column({ name: 'row_count', type: 'integer' })
  rowCount: number;

  @Column({ type: 'integer' })
  matched: number;

  @Column({ type: 'jsonb' })
  payouts: string[];

  @Column({ type: 'jsonb' })
  mismatched: MismatchedItem[];

  @Column({ type: 'jsonb' })
  unknown: UnknownItem[];

  @Column({ type: 'jsonb' })
  missing: MissingItem[];

  @Column({ name: 'created_by', type: 'varchar', length: 50 })
  createdBy: string;

  @TimestampColumn('created_at', { defaultNow: true })
  createdAt: Date;
}
