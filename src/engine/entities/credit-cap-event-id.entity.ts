import { Column, Entity, ForeignKey, Index, PrimaryColumn } from 'typeorm';

import { Account } from '../../accounts/entities/account.entity.js';
import { TimestampColumn } from '../../database/timestamp-column.js';

/** The primary key's constraint name, as the migration names it (TypeORM's own name differs). */
const KEY = { primaryKeyConstraintName: 'credit_cap_event_ids_pkey' } as const;

/**
 * The first answer of each consuming check that named an `eventId` (docs/features.md "Checks"), per
 * account, cap and id: a repeat answers it again and consumes nothing. Written only by
 * credits_feature_consume() under the account's lock; kept 35 days (the credit-cap-event-ids-cleanup job).
 */
@Entity({ name: 'credit_cap_event_ids' })
@Index('credit_cap_event_ids_created_idx', ['createdAt'])
export class CreditCapEventId {
  @ForeignKey(() => Account, { name: 'credit_cap_event_ids_account_id_fkey' })
  @PrimaryColumn({ name: 'account_id', type: 'bigint', ...KEY })
  accountId: string;

  /** The cap's kind: `feature`. */
  @PrimaryColumn({ name: 'subject_kind', type: 'varchar', length: 7, ...KEY })
  subjectKind: string;

  /** A feature's key. */
  @PrimaryColumn({ name: 'subject_id', type: 'varchar', length: 64, ...KEY })
  subjectId: string;

  @PrimaryColumn({ name: 'event_id', type: 'varchar', length: 100, ...KEY })
  eventId: string;

  @Column({ type: 'boolean' })
  allowed: boolean;

  /** The use of the period after the check (what it answered). */
  @Column({ type: 'bigint' })
  used: string;

  @Column({ name: 'cap_limit', type: 'bigint' })
  capLimit: string;

  /** The period's start: the answer's resetsAt follows from it (-infinity: lifetime). */
  @TimestampColumn('period_start')
  periodStart: Date;

  @Column({ type: 'varchar', length: 8 })
  period: string;

  @TimestampColumn('created_at')
  createdAt: Date;

  /** The uses the check asked to consume: a repeat of its eventId must ask the same (null: kept before it was). */
  @Column({ type: 'bigint', nullable: true })
  consume: string | null;
}
