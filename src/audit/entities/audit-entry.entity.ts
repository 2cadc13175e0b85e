import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

import { TimestampColumn } from '../../database/timestamp-column.js';

/**
 * One audit entry (migration 1732000022100): append-only, the database refuses UPDATE, DELETE and
 * TRUNCATE. Written only by AuditService.record, inside the transaction of the change it records.
 */
@Entity({ name: 'audit_log' })
@Index('audit_log_time_idx', ['at', 'id'])
@Index('audit_log_actor_time_idx', ['actorUserId', 'at', 'id'])
@Index('audit_log_action_time_idx', ['action', 'at', 'id'])
@Index('audit_log_target_time_idx', ['targetType', 'targetId', 'at', 'id'])
export class AuditEntry {
  /** Time-ordered (uuid_v7(); migration 1732000038300): the table only grows. */
  @PrimaryColumn({ type: 'uuid', default: () => 'uuid_v7()', primaryKeyConstraintName: 'audit_log_pkey' })
  id: string;

  @TimestampColumn('at', { defaultNow: true })
  at: Date;

  @Column({ name: 'actor_user_id', type: 'varchar', length: 50 })
  actorUserId: string;

  @Column({ name: 'actor_role', type: 'varchar', length: 20 })
  actorRole: string;

  @Column({ name: 'actor_via', type: 'varchar', length: 10 })
  actorVia: string;

  @Column({ name: 'actor_api_key_id', type: 'uuid', nullable: true })
  actorApiKeyId: string | null;

  @Column({ type: 'varchar', length: 50 })
  action: string;

  @Column({ name: 'target_type', type: 'varchar', length: 50 })
  targetType: string;

  @Column({ name: 'target_id', type: 'varchar', length: 200 })
  targetId: string;

  @Column({ type: 'jsonb', nullable: true })
  before: Record<string, unknown> | null;

  @Column({ type: 'jsonb', nullable: true })
  after: Record<string, unknown> | null;

  @Column({ name: 'request_id', type: 'varchar', length: 128, nullable: true })
  requestId: string | null;
}
