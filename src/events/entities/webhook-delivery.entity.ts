import { Check, Column, Entity, ForeignKey, Index, PrimaryGeneratedColumn, Unique } from 'typeorm';

import { TimestampColumn } from '../../database/timestamp-column.js';
import { EventRecord } from './event.entity.js';
import { WebhookEndpoint } from './webhook-endpoint.entity.js';

export const DELIVERY_STATUSES = ['pending', 'succeeded', 'failed'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/** One event to one endpoint (migration 1732000010000); written with SQL by WebhookDeliveriesRepository. */
@Entity({ name: 'webhook_deliveries' })
@Check('webhook_deliveries_status_check', `status IN ('pending', 'succeeded', 'failed')`)
@Check('webhook_deliveries_attempts_check', `attempts >= 0`)
@Check('webhook_deliveries_due_check', `(status = 'pending') = (next_attempt_at IS NOT NULL)`)
@Unique('webhook_deliveries_event_endpoint_key', ['eventId', 'endpointId'])
@Index('webhook_deliveries_due_idx', ['nextAttemptAt'], { where: `status = 'pending'` })
@Index('webhook_deliveries_endpoint_idx', ['endpointId', 'createdAt', 'id'])
/** The events retention job keeps an event while one of its deliveries is pending (migration 1732000018000). */
@Index('webhook_deliveries_pending_event_idx', ['eventId'], { where: `status = 'pending'` })
export class WebhookDelivery {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'webhook_deliveries_pkey' })
  id: string;

  @ForeignKey(() => EventRecord, { name: 'webhook_deliveries_event_id_fkey', onDelete: 'CASCADE' })
  @Column({ name: 'event_id', type: 'uuid' })
  eventId: string;

  @ForeignKey(() => WebhookEndpoint, { name: 'webhook_deliveries_endpoint_id_fkey', onDelete: 'CASCADE' })
  @Column({ name: 'endpoint_id', type: 'uuid' })
  endpointId: string;

  @Column({ type: 'varchar', length: 20, default: 'pending' })
  status: DeliveryStatus;

  @Column({ type: 'integer', default: 0 })
  attempts: number;

  @TimestampColumn('next_attempt_at', { nullable: true, defaultNow: true })
  nextAttemptAt: Date | null;

  /** Start of the current retry window: the first attempt, or the last manual retry. */
  @TimestampColumn('queued_at', { defaultNow: true })
  queuedAt: Date;

  @TimestampColumn('last_attempt_at', { nullable: true })
  lastAttemptAt: Date | null;

  @Column({ name: 'last_status_code', type: 'integer', nullable: true })
  lastStatusCode: number | null;

  @Column({ name: 'last_error', type: 'varchar', length: 500, nullable: true })
  lastError: string | null;

  @TimestampColumn('delivered_at', { nullable: true })
  deliveredAt: Date | null;

  @TimestampColumn('created_at', { defaultNow: true })
  createdAt: Date;
}
