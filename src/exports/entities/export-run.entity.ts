import { Check, Column, Entity, Index, PrimaryColumn } from 'typeorm';

import { TimestampColumn } from '../../database/timestamp-column.js';

export const EXPORT_RUN_STATUSES = ['running', 'completed', 'failed'] as const;
export type ExportRunStatus = (typeof EXPORT_RUN_STATUSES)[number];
export const EXPORT_TRIGGERS = ['schedule', 'manual'] as const;
export type ExportTrigger = (typeof EXPORT_TRIGGERS)[number];

/** One run of the Parquet exports (migration 1732000600000): every dataset's new rows. */
@Entity({ name: 'export_runs' })
@Check('export_runs_status_check', `status::text = ANY ('{running,completed,failed}'::text[])`)
@Check('export_runs_trigger_check', `trigger::text = ANY ('{schedule,manual}'::text[])`)
@Index('export_runs_started_idx', ['startedAt', 'id'])
export class ExportRun {
  @PrimaryColumn({ type: 'uuid', default: () => 'uuid_v7()', primaryKeyConstraintName: 'export_runs_pkey' })
  id: string;

  @Column({ type: 'varchar', length: 20, default: 'running' })
  status: ExportRunStatus;

  @Column({ type: 'varchar', length: 20 })
  trigger: ExportTrigger;

  /** The admin who asked for it (null: the schedule). */
  @Column({ name: 'created_by', type: 'varchar', length: 50, nullable: true })
  createdBy: string | null;

  @TimestampColumn('started_at', { defaultNow: true })
  startedAt: Date;

  @TimestampColumn('finished_at', { nullable: true })
  finishedAt: Date | null;

  @Column({ name: 'last_error', type: 'text', nullable: true })
  lastError: string | null;
}
