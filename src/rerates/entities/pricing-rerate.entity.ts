import { Check, Column, Entity, Index, PrimaryColumn, Unique } from 'typeorm';

import { TimestampColumn } from '../../database/timestamp-column.js';
import type { RerateStatus } from '../../pricing/dto/rerates.dto.js';

/**
 * One re-rate (migrations 1732000812000, 1732000960000): its request as given, its progress, and how
 * many lanes its records are cut into; each lane's cursor is a PricingRerateLane.
 */
@Entity({ name: 'pricing_rerates' })
@Unique('pricing_rerates_rerate_id_key', ['rerateId'])
@Check('pricing_rerates_status_check', `status::text = ANY ('{running,completed,failed}'::text[])`)
@Index('pricing_rerates_running_idx', ['startedAt'], { where: `status = 'running'` })
export class PricingRerate {
  @PrimaryColumn({ type: 'uuid', default: () => 'uuid_v7()', primaryKeyConstraintName: 'pricing_rerates_pkey' })
  id: string;

  /** The caller's id of the re-rate: its corrections are `rerate:<rerateId>`. */
  @Column({ name: 'rerate_id', type: 'varchar', length: 100 })
  rerateId: string;

  /**
   * The body as checked (from, to, rules, account: `{userId}`, `{orgId}` or null, reason; migration
   * 1732005100000): a repeat must send the same.
   */
  @Column({ type: 'jsonb' })
  request: Record<string, unknown>;

  @Column({ type: 'varchar', length: 10, default: 'running' })
  status: RerateStatus;

  /** Records examined, corrected, and the sum of the corrections' deltas. */
  @Column({ type: 'bigint', default: 0 })
  records: string;

  @Column({ type: 'bigint', default: 0 })
  corrected: string;

  @Column({ type: 'bigint', default: 0 })
  delta: string;

  @Column({ name: 'created_by', type: 'varchar', length: 50 })
  createdBy: string;

  @TimestampColumn('started_at', { defaultNow: true })
  startedAt: Date;

  @TimestampColumn('finished_at', { nullable: true })
  finishedAt: Date | null;

  @Column({ name: 'last_error', type: 'varchar', length: 2000, nullable: true })
  lastError: string | null;

  /** How many lanes its records are cut into (fixed at its start): pricing_rerate_lanes. */
  @Column({ type: 'smallint', default: 1 })
  lanes: number;
}
