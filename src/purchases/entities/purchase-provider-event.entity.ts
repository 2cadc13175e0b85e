import { Column, Entity, PrimaryColumn } from 'typeorm';

import { TimestampColumn } from '../../database/timestamp-column.js';

/** A provider event id seen (migration 1732000034000): the same event delivered again changes nothing. */
@Entity({ name: 'purchase_provider_events' })
export class PurchaseProviderEvent {
  @PrimaryColumn({ type: 'varchar', length: 30, primaryKeyConstraintName: 'purchase_provider_events_pkey' })
  provider: string;

  @PrimaryColumn({
    name: 'event_id',
    type: 'varchar',
    length: 255,
    primaryKeyConstraintName: 'purchase_provider_events_pkey',
  })
  eventId: string;

  @Column({ type: 'varchar', length: 100 })
  type: string;

  @Column({ name: 'purchase_id', type: 'uuid', nullable: true })
  purchaseId: string | null;

  @TimestampColumn('received_at', { defaultNow: true })
  receivedAt: Date;
}
