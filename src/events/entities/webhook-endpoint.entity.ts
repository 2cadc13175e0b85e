import { Check, Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

import { TimestampColumn } from '../../database/timestamp-column.js';

/** A subscriber URL (migration 1732000010000). Its secret is stored encrypted, never returned again. */
@Entity({ name: 'webhook_endpoints' })
@Check('webhook_endpoints_events_check', `cardinality(events) >= 1`)
@Index('webhook_endpoints_active_idx', ['id'], { where: `is_active` })
export class WebhookEndpoint {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'webhook_endpoints_pkey' })
  id: string;

  @Column({ type: 'varchar', length: 2048 })
  url: string;

  /** Event types, or ["*"] for all of them. */
  @Column({ type: 'varchar', length: 50, array: true })
  events: string[];

  @Column({ type: 'varchar', length: 500, nullable: true })
  description: string | null;

  @Column({ name: 'is_active', type: 'boolean', default: true })
  isActive: boolean;

  /** Why the service disabled the endpoint (null when active or disabled by an admin). */
  @Column({ name: 'disabled_reason', type: 'varchar', length: 500, nullable: true })
  disabledReason: string | null;

  @Column({ name: 'secret_encrypted', type: 'text' })
  secretEncrypted: string;

  @Column({ name: 'previous_secret_encrypted', type: 'text', nullable: true })
  previousSecretEncrypted: string | null;

  @TimestampColumn('previous_secret_expires_at', { nullable: true })
  previousSecretExpiresAt: Date | null;

  @TimestampColumn('failing_since', { nullable: true })
  failingSince: Date | null;

  @Column({ name: 'created_by', type: 'varchar', length: 50, nullable: true })
  createdBy: string | null;

  @TimestampColumn('created_at', { defaultNow: true })
  createdAt: Date;

  @TimestampColumn('updated_at', { defaultNow: true })
  updatedAt: Date;
}
