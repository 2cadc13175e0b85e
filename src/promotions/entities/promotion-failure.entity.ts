import { Column, Entity, PrimaryColumn } from 'typeorm';

import { TimestampColumn } from '../../database/timestamp-column.js';

/**
 * A principal's refused redemptions in its current hour (migration 1732000047000): the hour starts
 * at the first refusal after the previous one ended.
 */
@Entity({ name: 'promotion_failures' })
export class PromotionFailure {
  @PrimaryColumn({ type: 'varchar', length: 120, primaryKeyConstraintName: 'promotion_failures_pkey' })
  principal: string;

  @TimestampColumn('window_start')
  windowStart: Date;

  @Column({ type: 'integer' })
  failures: number;
}
