import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

import { TimestampColumn } from '../../database/timestamp-column.js';

/**
 * An `eventId` already used by its owner (migration 1732000011000): the usage record it produced.
 * The primary key makes an id count once per owner; rows are kept 35 days (UsageEventIdsJob).
 */
@Entity({ name: 'usage_event_ids' })
@Index('usage_event_ids_created_idx', ['createdAt'])
export class UsageEventId {
  @PrimaryColumn({ type: 'varchar', length: 50, primaryKeyConstraintName: 'usage_event_ids_pkey' })
  owner: string;

  @PrimaryColumn({ name: 'event_id', type: 'varchar', length: 100, primaryKeyConstraintName: 'usage_event_ids_pkey' })
  eventId: string;

  @Column({ name: 'usage_record_id', type: 'uuid' })
  usageRecordId: string;

  @TimestampColumn('created_at', { defaultNow: true })
  createdAt: Date;
}
