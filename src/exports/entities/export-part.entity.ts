import { Check, Column, Entity, ForeignKey, Index, PrimaryColumn } from 'typeorm';

import { TimestampColumn } from '../../database/timestamp-column.js';
import { ExportRun } from './export-run.entity.js';

export const EXPORT_PART_STATUSES = ['writing', 'done'] as const;
export type ExportPartStatus = (typeof EXPORT_PART_STATUSES)[number];

/**
 * The rows of one dataset whose `created_xid` lies in [fromXid, toXid), written as the files named by
 * `exportId` (migration 1732000600000). `done` parts are the watermark: the next part of the dataset
 * starts at the highest `toXid` among them.
 */
@Entity({ name: 'export_parts' })
@Check('export_parts_status_check', `status::text = ANY ('{writing,done}'::text[])`)
@Check('export_parts_range_check', `from_xid <= to_xid`)
@Index('export_parts_run_idx', ['runId'])
@Index('export_parts_dataset_idx', ['dataset', 'toXid'])
@Index('export_parts_writing_idx', ['dataset'], { unique: true, where: `status = 'writing'` })
export class ExportPart {
  @PrimaryColumn({ name: 'export_id', type: 'varchar', length: 100, primaryKeyConstraintName: 'export_parts_pkey' })
  exportId: string;

  @ForeignKey(() => ExportRun, { name: 'export_parts_run_id_fkey' })
  @Column({ name: 'run_id', type: 'uuid' })
  runId: string;

  @Column({ type: 'varchar', length: 40 })
  dataset: string;

  @Column({ name: 'from_xid', type: 'bigint' })
  fromXid: string;

  @Column({ name: 'to_xid', type: 'bigint' })
  toXid: string;

  @Column({ type: 'varchar', length: 20, default: 'writing' })
  status: ExportPartStatus;

  @Column({ type: 'bigint', default: 0 })
  rows: string;

  @Column({ type: 'integer', default: 0 })
  files: number;

  @TimestampColumn('created_at', { defaultNow: true })
  createdAt: Date;

  @TimestampColumn('finished_at', { nullable: true })
  finishedAt: Date | null;
}
