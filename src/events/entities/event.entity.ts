import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

import { TimestampColumn } from '../../database/timestamp-column.js';

/**
 * One emitted event (migration 1732000010000): the outbox. Written only by the database function
 * `emit_event()`, inside the transaction of the change that causes it.
 */
@Entity({ name: 'events' })
@Index('events_time_idx', ['createdAt', 'id'])
@Index('events_type_time_idx', ['type', 'createdAt', 'id'])
@Index('events_user_time_idx', ['userId', 'createdAt', 'id'])
export class EventRecord {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'events_pkey' })
  id: string;

  @Column({ type: 'varchar', length: 50 })
  type: string;

  @Column({ name: 'user_id', type: 'varchar', length: 50, nullable: true })
  userId: string | null;

  @Column({ type: 'jsonb' })
  data: Record<string, unknown>;

  @TimestampColumn('created_at', { defaultNow: true })
  createdAt: Date;
}
