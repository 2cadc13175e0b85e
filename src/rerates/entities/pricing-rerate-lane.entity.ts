import { Column, Entity, ForeignKey, PrimaryColumn } from 'typeorm';

import { TimestampColumn } from '../../database/timestamp-column.js';
import { PricingRerate } from './pricing-rerate.entity.js';

/**
 * One lane of a re-rate (migration 1732000960000): the records whose paying account's id is `lane`
 * modulo the re-rate's lanes, its cursor on their (occurred_at, id), moved in the transaction that
 * writes the corrections before it, and whether it reached the end of the range.
 */
@Entity({ name: 'pricing_rerate_lanes' })
export class PricingRerateLane {
  @ForeignKey(() => PricingRerate, { name: 'pricing_rerate_lanes_rerate_id_fkey', onDelete: 'CASCADE' })
  @PrimaryColumn({ name: 'rerate_id', type: 'uuid', primaryKeyConstraintName: 'pricing_rerate_lanes_pkey' })
  rerateId: string;

  @PrimaryColumn({ type: 'smallint', primaryKeyConstraintName: 'pricing_rerate_lanes_pkey' })
  lane: number;

  @TimestampColumn('cursor_at', { nullable: true })
  cursorAt: Date | null;

  @Column({ name: 'cursor_id', type: 'uuid', nullable: true })
  cursorId: string | null;

  @Column({ type: 'boolean', default: false })
  done: boolean;
}
